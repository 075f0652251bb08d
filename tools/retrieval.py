"""Vector retrieval tool: the user's free-text wishes against item documents in Chroma."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from catalog.errors import ArtifactError, UserFacingError
from catalog.models import Catalog
from tools.base import (
    Candidate,
    Constraints,
    ConvrecTool,
    Evidence,
    InputKind,
    ProfileInputs,
    ToolResources,
    ToolState,
)
from tools.engines.chroma_store import (
    UNKNOWN_YEAR,
    check_store,
    fill_collection,
    genre_key,
    item_document,
    open_collection,
    rebuild_fix,
    where_filter,
)
from tools.engines.embeddings import embed

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9])")
_WORD = re.compile(r"[a-z0-9]+")
_LABELLED = re.compile(r"^[A-Z][a-z ]{1,20}: ")
_STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i i'd im in into is it its like me movie "
    "movies my of on or film films something some that the their them there this to want was "
    "were what which who with would you your about any show shows watch".split()
)


def _stems(text: str) -> set[str]:
    """Content-word stems of a text (lower case, stop words dropped, cut to five letters)."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOPWORDS}


QueryTerms = tuple[frozenset[str], frozenset[str]]


def query_terms(query: str) -> QueryTerms:
    """The query's content words and their stems, for `best_snippet` (once per query)."""
    words = frozenset(w for w in _WORD.findall(query.lower())
                      if len(w) > 2 and w not in _STOPWORDS)
    return words, frozenset(w[:5] for w in words)


def best_snippet(document: str, query: str,
                 terms: QueryTerms | None = None) -> tuple[str, list[str]]:
    """The sentence of a document that best matches the query, by shared content words.

    Cheap on purpose (no extra embedding per result). Without any shared word the first
    descriptive sentence (the plot) is taken, else the genres line, else the title line.

    Args:
        document: The item's document.
        query: The user's wish.
        terms: `query_terms(query)` when the caller cuts snippets for many documents.

    Returns:
        The sentence (always a substring of `document`) and the query words it shares.
    """
    sentences = [s for s in _SENTENCE_END.split(document) if s.strip()] or [document]
    query_words, query_stems = terms if terms is not None else query_terms(query)
    best, best_hits = "", 0
    shared: set[str] = set()
    for sentence in sentences:
        stems = _stems(sentence)
        hits = len(stems & query_stems)
        if hits > best_hits:
            best, best_hits, shared = sentence, hits, stems
    if best:
        return best.strip(), sorted(w for w in query_words if w[:5] in shared)
    described = [s for s in sentences[1:] if not _LABELLED.match(s)]
    genres = [s for s in sentences if s.startswith("Genres: ")]
    return (described or genres or sentences)[0].strip(), []


@lru_cache(maxsize=512)
def _query_vector(text: str) -> np.ndarray:
    """Embedding of one query text; repeated wishes in a session are not embedded twice."""
    vector = embed([text])[0]
    vector.setflags(write=False)
    return vector


class VectorRetrievalTool(ConvrecTool):
    """Find items whose description matches the user's free-text wishes.

    Embeds the wish with all-MiniLM-L6-v2 and searches the item documents (title, genres, people,
    tags, plot) in Chroma by cosine similarity, with hard constraints applied as filters. Each
    result carries the sentence of its description that best matches the wish.
    """

    name: str = "vector_retrieval"
    description: str = (
        "Semantic search: find items whose description (plot, genres, people, tags) matches the "
        "user's free-text wishes, under the hard constraints."
    )
    consumes: ClassVar[frozenset[InputKind]] = frozenset(
        {InputKind.FREE_TEXT, InputKind.CONSTRAINTS})

    collection: Any
    catalog: Catalog
    genre_keys: dict[str, str]

    @classmethod
    def create(cls, resources: ToolResources) -> VectorRetrievalTool:
        """Open the catalog's collection; build it first (with progress) when it is incomplete.

        Raises:
            ArtifactError: when the store is corrupt or unreachable.
        """
        collection = open_collection(resources)
        if collection.count() < len(resources.catalog.items):
            logger.warning("vector store for %s is missing or incomplete; building it now",
                           resources.catalog.name)
            fill_collection(collection, resources)
        catalog = resources.catalog
        return cls(collection=collection, catalog=catalog,
                   genre_keys={g: genre_key(g) for g in catalog.genres()})

    @classmethod
    def build_artifacts(cls, resources: ToolResources) -> bool:
        """Embed and store every item the collection lacks; False when nothing was missing."""
        return fill_collection(open_collection(resources), resources) > 0

    @classmethod
    def check_artifacts(cls, resources: ToolResources) -> str:
        """Verify the catalog's vector store (complete and readable) without building it."""
        return check_store(resources)

    def _where(self, constraints: Constraints) -> tuple[dict[str, Any] | None, bool]:
        """Chroma `where` for the hard constraints, and whether any item can satisfy them."""
        clauses: list[dict[str, Any]] = []
        if constraints.year_min is not None:
            clauses.append({"year": {"$gte": constraints.year_min}})
        if constraints.year_max is not None:
            clauses.append({"year": {"$lte": constraints.year_max}})
            if constraints.year_min is None:  # an unknown year (-1) fails a year constraint
                clauses.append({"year": {"$gt": UNKNOWN_YEAR}})
        for genre in constraints.genres_excluded:
            if genre in self.genre_keys:  # a genre no item has excludes nothing
                clauses.append({self.genre_keys[genre]: {"$eq": False}})
        if constraints.genres_any:
            keys = sorted({self.genre_keys[g] for g in constraints.genres_any
                           if g in self.genre_keys})
            if not keys:
                return None, False
            flags: list[dict[str, Any]] = [{key: {"$eq": True}} for key in keys]
            clauses.append(flags[0] if len(flags) == 1 else {"$or": flags})
        return where_filter(clauses), True

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        """Return up to k items most similar to `profile.free_text`, best first.

        Hard constraints filter inside Chroma and are re-checked with `Constraints.allows`;
        only items in `state.candidate_ids` (when set) and none of `state.excluded_ids` come back.
        An empty wish gives an empty list. Score and `data["similarity"]` are cosine similarity.

        Raises:
            ArtifactError: when the store fails while being queried.
        """
        return self.score_with_vector(profile, k, state)

    def score_with_vector(self, profile: ProfileInputs, k: int, state: ToolState,
                          query_vector: np.ndarray | None = None) -> list[Candidate]:
        """`score` with the wish's embedding given by the caller instead of computed here.

        A hook for callers that embed the wish elsewhere (batched, or a stored vector) and for
        `convrec bench tools`, which times the search path apart from the query embedding.
        `query_vector` must be a unit-length `DIMENSIONS`-float vector; None embeds
        `profile.free_text` (cached per text) exactly as `score` does. The wish text is still
        required: it selects the evidence snippets, and an empty wish gives an empty list.

        Raises:
            ArtifactError: when the store fails while being queried.
        """
        query = profile.free_text.strip()
        if not query or k <= 0:
            return []
        constraints = profile.constraints
        where, satisfiable = self._where(constraints)
        excluded = set(state.excluded_ids) | set(constraints.exclude_item_ids)
        ids: list[str] | None = None
        if state.candidate_ids is not None:
            ids = sorted(i for i in state.candidate_ids if i in self.catalog.items
                         and i not in excluded)
            if not ids:
                return []
        if not satisfiable:
            return []
        # Exclusions are dropped after the search: fetch enough extra rows to still fill k.
        n_results = min(k + len(excluded), len(ids) if ids is not None else len(self.catalog.items))
        try:
            result = self.collection.query(
                query_embeddings=[_query_vector(query) if query_vector is None else query_vector],
                ids=ids, n_results=max(n_results, 1),
                where=where, include=["distances"],
            )
        except UserFacingError:
            raise
        except Exception as exc:  # noqa: BLE001 - chroma raises many types for damaged files
            raise ArtifactError(f"querying the vector store for {self.catalog.name} failed: {exc}",
                                rebuild_fix(self.catalog)) from exc
        return self._candidates(result, query, constraints, excluded, state, k)

    def _candidates(self, result: Any, query: str, constraints: Constraints, excluded: set[str],
                    state: ToolState, k: int) -> list[Candidate]:
        """Turn a Chroma query result into checked candidates with snippet evidence.

        The snippets are cut from `item_document(item)` rather than from documents read back
        from the store: the collection's name carries the catalog's content hash and
        DOCUMENT_FORMAT, so the stored text is exactly that, and fetching 50 documents from
        Chroma's SQLite costs several times the vector search itself.
        """
        candidates: list[Candidate] = []
        terms = query_terms(query)
        ids, distances = result["ids"][0], result["distances"][0]
        similarities = np.clip(1.0 - np.asarray(distances, dtype=np.float64), -1.0, 1.0)
        for item_id, similarity in zip(ids, similarities.tolist(), strict=True):
            item = self.catalog.items.get(item_id)
            if (item is None or item_id in excluded or not constraints.allows(item)
                    or (state.candidate_ids is not None and item_id not in state.candidate_ids)):
                continue
            snippet, matched = best_snippet(item_document(item), query, terms)
            evidence = Evidence(
                tool=self.name, kind="snippet", text=snippet,
                data={"similarity": round(similarity, 4), "snippet": snippet,
                      "matched_words": matched, "title": item.display_title},
            )
            candidates.append(Candidate(item_id=item_id, score=similarity, evidence=[evidence]))
            if len(candidates) == k:
                break
        return candidates
