"""Resolve a catalog name or path to a loaded Catalog."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.errors import DataError
from catalog.generic import load_generic
from catalog.ml100k import FIX as ML100K_FIX
from catalog.ml100k import is_installed, load_ml100k
from catalog.models import Catalog
from catalog.movielens_redial import FIX as REDIAL_FIX
from catalog.movielens_redial import load_embedded, load_movielens_redial

NAMED_CATALOGS = ("ml-100k", "movielens-redial")
DATA_DIR_ENV = "CONVREC_DATA_DIR"


def resolve_data_dir(data_dir: Path | str | None) -> Path:
    """The data dir from the argument, `CONVREC_DATA_DIR`, or `../shared/data` if it exists."""
    if data_dir:
        return Path(data_dir).expanduser()
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    for guess in (Path.cwd() / ".." / "shared" / "data", Path.cwd() / "shared" / "data"):
        if guess.is_dir():
            return guess.resolve()
    raise DataError("no data dir for the movielens-redial catalog", REDIAL_FIX)


def load_catalog(name: str, cache_dir: Path, data_dir: Path | str | None = None) -> Catalog:
    """Load a named catalog (`ml-100k`, `movielens-redial`) or a generic-format folder.

    movielens-redial comes from the copy embedded in the package; with an explicit `data_dir`
    (argument, `--data-dir` or `CONVREC_DATA_DIR` through the settings) it is joined from the
    source files there instead (the same catalog when they are the files it was built from).

    Raises:
        DataError: when the catalog is unknown or its files are missing or corrupt.
    """
    if name == "ml-100k":
        if not is_installed(cache_dir):
            raise DataError("the ml-100k catalog is not in the cache (or is damaged)", ML100K_FIX)
        return load_ml100k(cache_dir)
    if name == "movielens-redial":
        return load_movielens_redial(Path(data_dir).expanduser()) if data_dir else load_embedded()
    path = Path(name).expanduser()
    if path.is_dir():
        return load_generic(path)
    if path.name != name:  # looks like a path, not a misspelt name
        raise DataError(f"the catalog folder {path} does not exist",
                        "pass --catalog a folder holding items.jsonl (and interactions.csv)")
    raise DataError(
        f"unknown catalog {name!r}",
        f"use one of {', '.join(NAMED_CATALOGS)} or a folder in the generic format",
    )
