"""ReDial samples the installed trained artifacts never saw (the co-mention table, the ranker)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catalog.models import Catalog

log = logging.getLogger(__name__)


def fold_of(dialog_id: str, n_folds: int = 5, seed: int = 0) -> int:
    """The fold of a dialogue: a hash of its id (every sample of a dialogue in one fold)."""
    digest = hashlib.sha256(f"{seed}:{dialog_id}".encode()).hexdigest()
    return int(digest, 16) % n_folds


@dataclass
class TrainedOn:
    """What the installed artifacts were trained on: dialogue ids and/or a fold assignment."""

    dialogue_ids: set[str] = field(default_factory=set)
    folds: tuple[int, int, int] | None = None
    """(n_folds, validation_fold, fold_seed) of the ranker: only that fold is unseen."""
    sources: list[str] = field(default_factory=list)

    def seen(self, dialog_id: str) -> bool:
        """Whether an artifact was trained on this dialogue."""
        if dialog_id in self.dialogue_ids:
            return True
        if self.folds is not None:
            n_folds, validation, seed = self.folds
            return fold_of(dialog_id, n_folds, seed) != validation
        return False

    def describe(self) -> dict[str, Any]:
        """JSON-ready summary for the report's config."""
        return {"sources": self.sources, "dialogues": len(self.dialogue_ids),
                "ranker_folds": list(self.folds) if self.folds else None}


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _active(root: Path) -> Path | None:
    pointer = _read_json(root / "active.json")
    folder = pointer.get("folder") if pointer else None
    return root / str(folder) if folder else None


def trained_on(cache_dir: Path, catalog: Catalog) -> TrainedOn:
    """The ReDial dialogues that the catalog's installed co-mention table and learned ranker
    were built from (`convrec train ranker`); empty when none is installed."""
    from tools.engines.ranker import ranker_root

    found = TrainedOn()
    artifacts = ranker_root(cache_dir, catalog).parent
    table = _active(artifacts / "comention")
    meta = _read_json(table / "comention_meta.json") if table else None
    if meta and meta.get("source") == "dialogues":
        found.dialogue_ids = {str(d) for d in meta.get("dialogue_ids", [])}
        found.sources.append(f"co-mention table ({len(found.dialogue_ids)} dialogues)")
    ranker = _active(ranker_root(cache_dir, catalog))
    meta = _read_json(ranker / "ranker_meta.json") if ranker else None
    training = (meta or {}).get("training", {})
    if training.get("source") == "redial" and "n_folds" in training:
        found.folds = (int(training["n_folds"]), int(training["validation_fold"]),
                       int(training.get("fold_seed", 0)))
        found.sources.append(f"learned ranker (folds != {found.folds[1]} of {found.folds[0]})")
    return found
