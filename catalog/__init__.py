"""Catalog records, loaders for ml-100k / movielens-redial / the generic format, and paths."""

from catalog.errors import (
    ArtifactError,
    ConvrecError,
    DataError,
    ModelFileError,
    UserFacingError,
)
from catalog.loading import NAMED_CATALOGS, load_catalog, resolve_data_dir
from catalog.models import Catalog, Interaction, Interactions, Item, Triple
from catalog.paths import convrec_home

__all__ = [
    "ArtifactError",
    "Catalog",
    "ConvrecError",
    "DataError",
    "Interaction",
    "Interactions",
    "Item",
    "ModelFileError",
    "NAMED_CATALOGS",
    "Triple",
    "UserFacingError",
    "convrec_home",
    "load_catalog",
    "resolve_data_dir",
]
