"""The one place that decides where convrec keeps its cache (models, catalogs, artifacts)."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "CONVREC_HOME"


def convrec_home() -> Path:
    """Return the cache directory, creating it; `CONVREC_HOME` overrides the default.

    Returns:
        `$CONVREC_HOME` if set, else `$XDG_CACHE_HOME/convrec` or `~/.cache/convrec`.
    """
    env = os.environ.get(HOME_ENV)
    if env:
        path = Path(env).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        path = Path(base) / "convrec"
    path.mkdir(parents=True, exist_ok=True)
    return path
