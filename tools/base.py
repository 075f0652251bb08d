"""The plugin-tool contract: profile inputs in, scored candidates with evidence out."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

from langchain_core.tools import BaseTool, InjectedToolArg
from pydantic import BaseModel, ConfigDict, Field

from catalog.models import Catalog, Item


class InputKind(StrEnum):
    """Profile inputs a tool may consume; the planner routes to a tool when one is present."""

    FREE_TEXT = "free_text"
    LIKED_ITEMS = "liked_items"
    DISLIKED_ITEMS = "disliked_items"
    ENTITIES = "entities"
    CONSTRAINTS = "constraints"


class Constraints(BaseModel):
    """Hard constraints every recommendation must obey."""

    year_min: int | None = None
    year_max: int | None = None
    genres_any: list[str] = Field(default_factory=list, description="Item must have one of these.")
    genres_excluded: list[str] = Field(default_factory=list)
    exclude_item_ids: list[str] = Field(default_factory=list)

    def allows(self, item: Item) -> bool:
        """True when the item satisfies every constraint."""
        if item.id in self.exclude_item_ids:
            return False
        if self.year_min is not None and (item.year is None or item.year < self.year_min):
            return False
        if self.year_max is not None and (item.year is None or item.year > self.year_max):
            return False
        if self.genres_any and not set(self.genres_any) & set(item.genres):
            return False
        return not set(self.genres_excluded) & set(item.genres)

    def is_empty(self) -> bool:
        """True when nothing is constrained."""
        return not (self.year_min or self.year_max or self.genres_any or self.genres_excluded
                    or self.exclude_item_ids)


class ProfileInputs(BaseModel):
    """The part of a user profile the tools read (built by the agent each turn)."""

    free_text: str = Field("", max_length=2000, description="The user's wishes in their words.")
    liked_items: list[str] = Field(default_factory=list, max_length=50)
    disliked_items: list[str] = Field(default_factory=list, max_length=50)
    entities: list[str] = Field(
        default_factory=list, max_length=50,
        description="Linked KG entities, e.g. 'genre:sci-fi', 'person:Ridley Scott'.",
    )
    constraints: Constraints = Field(default_factory=Constraints)

    def present(self) -> set[InputKind]:
        """Which input kinds carry something."""
        kinds = set()
        if self.free_text.strip():
            kinds.add(InputKind.FREE_TEXT)
        if self.liked_items:
            kinds.add(InputKind.LIKED_ITEMS)
        if self.disliked_items:
            kinds.add(InputKind.DISLIKED_ITEMS)
        if self.entities:
            kinds.add(InputKind.ENTITIES)
        if not self.constraints.is_empty():
            kinds.add(InputKind.CONSTRAINTS)
        return kinds


class Evidence(BaseModel):
    """Why a tool proposed an item; the justification is written only from this."""

    tool: str
    kind: str = Field(description="'snippet', 'kg_path', 'cf_neighbour' or a plugin's own kind.")
    text: str = Field(description="One human-readable line, e.g. 'Alien -director-> Ridley Scott'.")
    data: dict[str, Any] = Field(default_factory=dict)


class Candidate(BaseModel):
    """A scored item with its evidence."""

    item_id: str
    score: float
    evidence: list[Evidence] = Field(default_factory=list)


class ToolResult(BaseModel):
    """A tool's typed artifact: ranked candidates, or an error the agent can act on."""

    tool: str
    candidates: list[Candidate] = Field(default_factory=list)
    error: str | None = None


@dataclass
class ToolState:
    """Per-session state injected into a tool call (never a global).

    `candidate_ids` is the shared candidate set: when set, tools score only inside it.
    """

    session_id: str = ""
    candidate_ids: set[str] | None = None
    excluded_ids: set[str] = field(default_factory=set)


ARTIFACT_PARTS: dict[str, tuple[str, ...]] = {
    "chroma": ("items",),
    "kg": ("items", "triples"),
    "cf": ("items", "interactions"),
}


def build_fix(catalog: Catalog, rebuild: bool = False) -> str:
    """The command that builds (or, with `rebuild`, deletes and rebuilds) the catalog's artifacts."""
    source = shlex.quote(catalog.source or catalog.name)
    return f"convrec build --catalog {source}{' --rebuild' if rebuild else ''}"


def rebuild_fix(catalog: Catalog) -> str:
    """The command that deletes and rebuilds the catalog's artifacts (for damaged ones)."""
    return build_fix(catalog, rebuild=True)


@dataclass
class ToolResources:
    """What tools are built from: the catalog, the cache for artifacts, and store settings."""

    catalog: Catalog
    cache_dir: Path
    store_url: str | None = None
    show_progress: bool = False
    shared: dict[str, Any] = field(default_factory=dict)

    def artifact_dir(self, kind: str) -> Path:
        """Folder for one artifact kind, keyed by a hash of the catalog parts it reads.

        The vector index reads only items, so a CF-only change (e.g. evaluation users held
        out) does not re-embed the catalog.
        """
        parts = ARTIFACT_PARTS.get(kind, ("items", "interactions", "triples"))
        key = self.catalog.part_hash(*parts)
        path = self.cache_dir / "artifacts" / f"{self.catalog.name}-{key}" / kind
        path.mkdir(parents=True, exist_ok=True)
        return path


class ToolArgs(BaseModel):
    """Arguments every convrec tool accepts (validated before the tool runs)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    profile: ProfileInputs
    k: int = Field(50, ge=1, le=1000, description="How many candidates to return.")
    state: Annotated[ToolState, InjectedToolArg] = Field(default_factory=ToolState)


class ConvrecTool(BaseTool):
    """Base class of all recommendation tools (built-in and plugins).

    Subclasses set `name`, `description`, `consumes`, implement `create` and `score`.
    Calling `.invoke({"profile": ..., "k": ..., "state": ...})` returns a ToolMessage-style
    (content, artifact) pair through LangChain's `content_and_artifact` response format.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    args_schema: type[BaseModel] = ToolArgs
    response_format: str = "content_and_artifact"
    consumes: ClassVar[frozenset[InputKind]] = frozenset()

    @classmethod
    def create(cls, resources: ToolResources) -> ConvrecTool:
        """Build (or load from cache) what the tool needs and return an instance."""
        raise NotImplementedError

    @classmethod
    def build_artifacts(cls, resources: ToolResources) -> bool:
        """Build and cache this tool's artifacts; return True if work was done."""
        return False

    @classmethod
    def check_artifacts(cls, resources: ToolResources) -> str:
        """Verify this tool's cached artifacts without building or repairing anything.

        Used by `convrec check`; tools without cached artifacts keep this default.

        Returns:
            A one-line status, e.g. '1,682 items in <store path>'.

        Raises:
            ArtifactError: when an artifact is missing, incomplete or corrupt (naming the
                `convrec build` command that fixes it).
        """
        return "no cached artifacts"

    def score(self, profile: ProfileInputs, k: int, state: ToolState) -> list[Candidate]:
        """Return up to k candidates for the profile, best first."""
        raise NotImplementedError

    def run_typed(self, profile: ProfileInputs, k: int = 50,
                  state: ToolState | None = None) -> ToolResult:
        """Run the tool and always return a ToolResult (errors become results)."""
        try:
            candidates = self.score(profile, k, state or ToolState())
        except Exception as exc:  # noqa: BLE001 - a tool failure is a result, not a crash
            return ToolResult(tool=self.name, error=f"{type(exc).__name__}: {exc}")
        return ToolResult(tool=self.name, candidates=candidates)

    def _run(self, profile: ProfileInputs | dict, k: int = 50,
             state: ToolState | None = None, **_: Any) -> tuple[str, ToolResult]:
        if isinstance(profile, dict):
            profile = ProfileInputs.model_validate(profile)
        result = self.run_typed(profile, k, state)
        if result.error:
            return f"{self.name} failed: {result.error}", result
        top = ", ".join(f"{c.item_id} ({c.score:.3f})" for c in result.candidates[:5])
        return f"{self.name}: {len(result.candidates)} candidates; top: {top}", result
