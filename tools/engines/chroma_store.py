"""The Chroma collection behind vector retrieval: item documents, metadata, opening and building."""

from __future__ import annotations

import fcntl
import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from chromadb.errors import NotFoundError
from tqdm.auto import tqdm

from catalog.errors import ArtifactError, UserFacingError
from catalog.models import Catalog, Item
from tools.base import ToolResources, build_fix, rebuild_fix
from tools.engines.embeddings import MODEL_NAME, MiniLMEmbeddingFunction, embed

logger = logging.getLogger(__name__)

# Bump when the document text or metadata layout changes: the collection name changes with it,
# so an old collection is never mixed with new documents.
DOCUMENT_FORMAT = 1
UNKNOWN_YEAR = -1
ADD_BATCH = 256
_MAX_CAST = 6
_MAX_TAGS = 10
_SLUG = re.compile(r"[^a-z0-9]+")


def genre_key(genre: str) -> str:
    """Metadata key of the boolean flag for one genre, e.g. 'sci-fi' -> 'g_sci_fi'."""
    return "g_" + (_SLUG.sub("_", genre.lower()).strip("_") or "none")


def item_document(item: Item) -> str:
    """The text embedded for an item: title (year), genres, people by role, tags, plot.

    Each part is its own sentence so that evidence snippets can be cut along them.
    """
    parts = [f"{item.display_title}."]
    if item.genres:
        parts.append(f"Genres: {', '.join(item.genres)}.")
    for role, names in item.people.items():
        if names:
            shown = names[:_MAX_CAST]
            label = role.replace("_", " ").capitalize()
            parts.append(f"{label}: {', '.join(shown)}.")
    if item.tags:
        parts.append(f"Tags: {', '.join(item.tags[:_MAX_TAGS])}.")
    plot = " ".join(item.text.split())
    if plot:
        parts.append(plot if plot[-1] in ".!?\"')" else plot + ".")
    return " ".join(parts)


def item_metadata(item: Item, genres: list[str]) -> dict[str, str | int | bool]:
    """Chroma metadata for `where` filtering: item id, year (-1 when unknown), a flag per genre.

    Every catalog genre gets an explicit True/False flag so that `$eq False` filters are exact.
    """
    own = {genre_key(g) for g in item.genres}
    meta: dict[str, str | int | bool] = {
        "item_id": item.id,
        "year": item.year if item.year is not None else UNKNOWN_YEAR,
    }
    for g in genres:
        meta[genre_key(g)] = genre_key(g) in own
    return meta


def collection_name(catalog: Catalog) -> str:
    """Chroma collection name from the catalog name, its content hash and the document format."""
    slug = re.sub(r"[^a-zA-Z0-9._-]+", "-", catalog.name).strip("-._")[:48] or "catalog"
    return f"convrec-{slug}-{catalog.content_hash()}-d{DOCUMENT_FORMAT}"


def open_client(resources: ToolResources) -> ClientAPI:
    """A Chroma client: HTTP when `resources.store_url` is set, else a local persistent store.

    Raises:
        ArtifactError: when the store cannot be opened (corrupt files, unreachable server).
    """
    settings = Settings(anonymized_telemetry=False)
    if resources.store_url:
        url = urlsplit(resources.store_url if "//" in resources.store_url
                       else f"http://{resources.store_url}")
        ssl = url.scheme == "https"
        host, port = url.hostname or "localhost", url.port or (443 if ssl else 8000)
        try:
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=settings)
        except Exception as exc:  # noqa: BLE001 - any failure here means "cannot reach it"
            raise ArtifactError(
                f"cannot reach the Chroma server at {resources.store_url}: {exc}",
                "start it (chroma run --path DIR) or unset the store URL to use a local store",
            ) from exc
    path = resources.artifact_dir("chroma")
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:  # noqa: BLE001 - chroma raises many types for damaged files
        raise ArtifactError(f"the vector store at {path} cannot be opened: {exc}",
                            rebuild_fix(resources.catalog)) from exc


def open_collection(resources: ToolResources) -> Collection:
    """Open (creating when absent) the catalog's collection, cosine space.

    Raises:
        ArtifactError: when the store is corrupt or unreachable.
    """
    client = open_client(resources)
    catalog = resources.catalog
    try:
        collection = client.get_or_create_collection(
            collection_name(catalog),
            embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"catalog": catalog.name, "content_hash": catalog.content_hash(),
                      "model": MODEL_NAME, "document_format": DOCUMENT_FORMAT},
        )
        collection.count()
    except UserFacingError:
        raise
    except Exception as exc:  # noqa: BLE001 - chroma raises many types for damaged files
        raise ArtifactError(f"the vector store for {catalog.name} is unreadable: {exc}",
                            rebuild_fix(catalog)) from exc
    return collection


def drop_collection(resources: ToolResources) -> bool:
    """Delete the catalog's collection from the store (a Chroma server's too); False when absent.

    `convrec build --rebuild` calls this: deleting the local artifact folder does not touch a
    collection held by a Chroma server.

    Raises:
        ArtifactError: when the store cannot be opened or refuses the deletion.
    """
    client = open_client(resources)
    name = collection_name(resources.catalog)
    try:
        client.delete_collection(name)
    except NotFoundError:
        return False
    except Exception as exc:  # noqa: BLE001 - chroma raises many types for store failures
        raise ArtifactError(f"deleting the vector store for {resources.catalog.name} failed: "
                            f"{exc}", "check the store (or the Chroma server) and retry") from exc
    return True


def check_store(resources: ToolResources) -> str:
    """Verify the catalog's collection without creating, filling or repairing it.

    Opens the store, counts the items and runs one nearest-neighbour query with a stored
    vector, so that a damaged SQLite file or HNSW index is found.

    Returns:
        A one-line status: how many items, and where.

    Raises:
        ArtifactError: when the collection is missing, incomplete, or the store is corrupt.
    """
    catalog = resources.catalog
    where = resources.store_url or str(resources.artifact_dir("chroma"))
    if not resources.store_url and not (Path(where) / "chroma.sqlite3").is_file():
        raise ArtifactError(f"the vector store for {catalog.name} is not built",
                            build_fix(catalog))
    client = open_client(resources)
    try:
        collection = client.get_collection(
            collection_name(catalog),
            embedding_function=MiniLMEmbeddingFunction(),  # type: ignore[arg-type]
        )
        count = collection.count()
        sample = collection.get(limit=1, include=["embeddings"])["embeddings"]
        if count and sample is not None and len(sample):
            collection.query(query_embeddings=[sample[0]], n_results=1, include=[])
    except NotFoundError as exc:
        raise ArtifactError(f"the vector store for {catalog.name} is not built",
                            build_fix(catalog)) from exc
    except Exception as exc:  # noqa: BLE001 - chroma raises many types for damaged files
        raise ArtifactError(f"the vector store for {catalog.name} is unreadable: {exc}",
                            rebuild_fix(catalog)) from exc
    if count < len(catalog.items):
        raise ArtifactError(f"the vector store for {catalog.name} holds {count:,} of "
                            f"{len(catalog.items):,} items", build_fix(catalog))
    return f"vector store: {count:,} items in {where}"


def stored_ids(collection: Collection, page: int = 10_000) -> set[str]:
    """Ids already in the collection (read in pages)."""
    ids: set[str] = set()
    offset = 0
    while True:
        got = collection.get(include=[], limit=page, offset=offset)["ids"]
        ids.update(got)
        if len(got) < page:
            return ids
        offset += page


def add_items(collection: Collection, items: Sequence[Item], vectors: np.ndarray,
              genres: list[str], documents: Sequence[str] | None = None) -> None:
    """Add items with their embeddings, documents and metadata exactly as the tool stores them.

    `fill_collection` passes MiniLM embeddings of the documents. The hook also lets a caller
    that already holds vectors insert them without running the embedder: `convrec bench tools`
    fills catalogs of up to a million items with random unit vectors this way (embedding them
    all on a CPU would take hours) and times the search path alone.

    Args:
        collection: The catalog's collection (`open_collection`).
        items: The items to add.
        vectors: One unit-length `DIMENSIONS`-float row per item (cosine space).
        genres: All catalog genres (`Catalog.genres()`), for the per-genre metadata flags.
        documents: The items' documents when already made (default: `item_document`).
    """
    texts = list(documents) if documents is not None else [item_document(i) for i in items]
    collection.add(
        ids=[item.id for item in items],
        embeddings=vectors,
        documents=texts,
        metadatas=[item_metadata(item, genres) for item in items],  # type: ignore[misc]
    )


def fill_collection(collection: Collection, resources: ToolResources) -> int:
    """Embed and add every catalog item the collection lacks; resumable after an interruption.

    Items are embedded in order of document length (little padding per batch) and added batch by
    batch, so a crash loses at most one batch.

    Returns:
        How many items were added (0 when the collection was complete).

    Raises:
        ArtifactError: when the store fails while being written.
    """
    catalog = resources.catalog
    with _writer_lock(resources):
        return _fill(collection, resources, catalog)


@contextmanager
def _writer_lock(resources: ToolResources) -> Iterator[None]:
    """One writer per local store across processes: two processes embedding into the same
    persistent store at once corrupted its HNSW files (a 114 GB link_lists.bin)."""
    if resources.store_url:
        yield
        return
    path = resources.artifact_dir("chroma")
    path.mkdir(parents=True, exist_ok=True)
    with open(path.parent / "chroma.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("another process is building %s; waiting for it", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fill(collection: Collection, resources: ToolResources, catalog: Catalog) -> int:
    try:
        present = stored_ids(collection) if collection.count() else set()
        missing = [item for item_id, item in catalog.items.items() if item_id not in present]
        if not missing:
            return 0
        genres = catalog.genres()
        docs = {item.id: item_document(item) for item in missing}
        missing.sort(key=lambda item: len(docs[item.id]))
        logger.info("embedding %d items of %s into %s", len(missing), catalog.name,
                    collection.name)
        with tqdm(total=len(missing), unit="item", desc=f"embedding {catalog.name}",
                  disable=not resources.show_progress) as bar:
            for start in range(0, len(missing), ADD_BATCH):
                chunk = missing[start:start + ADD_BATCH]
                texts = [docs[item.id] for item in chunk]
                add_items(collection, chunk, embed(texts), genres, texts)
                bar.update(len(chunk))
    except UserFacingError:
        raise
    except Exception as exc:  # noqa: BLE001 - surface store failures as one actionable error
        raise ArtifactError(f"writing the vector store for {catalog.name} failed: {exc}",
                            rebuild_fix(catalog)) from exc
    return len(missing)


def where_filter(clauses: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Combine `where` clauses: None for none, the clause itself for one, `$and` for more."""
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return {"$and": clauses}
