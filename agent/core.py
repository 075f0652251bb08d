"""The Agent: built once from settings (catalog, tools, LLM backend, session store)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from agent import memory
from agent.backends.base import LLMBackend
from agent.host import SessionState
from agent.justify import warm_up
from agent.linking import EntityLinker
from agent.mood_model import warm_up_embeddings
from agent.planner import PlanResult, planner_ranker, run_plan
from agent.profile import UserProfile
from agent.reading import Reader
from agent.session import Session
from agent.settings import Settings, load_settings
from agent.store import BaseSessionStore, open_session_store
from catalog.errors import ArtifactError, UserFacingError
from catalog.loading import load_catalog
from catalog.models import Catalog, without_users
from tools.base import ConvrecTool, ToolResources
from tools.engines.ranker import LearnedRanker
from tools.registry import ToolRegistry

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]


class Agent:
    """A conversational recommender; thread-safe across sessions (one Session per thread)."""

    def __init__(self, settings: Settings, catalog: Catalog, backend: LLMBackend,
                 tools: dict[str, ConvrecTool], store: BaseSessionStore,
                 max_questions: int = 3) -> None:
        self.settings = settings
        self.catalog = catalog
        self.backend = backend
        self.tools = tools
        self.store = store
        self.max_questions = max_questions
        self.linker = EntityLinker(catalog)
        self.reader = Reader(self.linker)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, backend: LLMBackend | None = None,
                      catalog: Catalog | None = None, cf_exclude_users: set[str] | None = None,
                      tool_names: list[str] | None = None, progress: Progress | None = None,
                      show_progress: bool = False) -> Agent:
        """Build an agent: load the catalog, open/build the tools, load the model.

        Raises:
            UserFacingError: (DataError, ModelFileError, ArtifactError) naming the fix, also
                when a tool's artifacts are damaged (a tool failing otherwise is left out and
                listed in `failed_tools`).
        """
        settings = settings or load_settings()
        report = progress or (lambda stage, frac: None)
        cache = settings.resolved_cache_dir()
        if backend is None:  # a bad model path fails now, not after the tools are built
            from agent.backends.factory import preflight

            preflight(settings, cache)
        report("catalog", 0.0)
        catalog = catalog or load_catalog(settings.catalog, cache, settings.data_dir)
        if cf_exclude_users:
            catalog = without_users(catalog, set(cf_exclude_users))
        report("tools", 0.2)
        resources = ToolResources(catalog=catalog, cache_dir=cache, store_url=settings.store_url,
                                  show_progress=show_progress)
        # A tool whose files are damaged stops start-up with its fix; other failures
        # (e.g. a plugin's bug) leave the tool out.
        created = ToolRegistry().create_all(resources, tool_names, raise_on=(UserFacingError,))
        if not created.tools:
            raise ArtifactError("no recommendation tool could be opened: "
                                + "; ".join(created.failed.values()),
                                f"run `convrec build --catalog {settings.catalog} --rebuild`")
        report("model", 0.6)
        if backend is None:
            from agent.backends.factory import make_backend

            backend = make_backend(settings, cache)
        if settings.justify_with_llm and settings.llm_justified:
            warm_up(backend, background=True)  # the first card's draft evaluates only its facts
        store = open_session_store(settings)
        report("ready", 1.0)
        agent = cls(settings, catalog, backend, created.tools, store)
        agent.failed_tools = created.failed
        agent.ranker = planner_ranker(settings.ranker, cache, catalog)
        if agent.reader.mood is not None:
            warm_up_embeddings()  # the mood model's first message would wait for MiniLM
        return agent

    failed_tools: dict[str, str] = {}
    ranker: LearnedRanker | None = None
    """The learned ranker the planner re-orders candidates with (None: reciprocal rank)."""

    def plan(self, profile: UserProfile, weights: dict[str, float] | None = None,
             session_id: str = "") -> PlanResult:
        """Route, run and fuse the tools for a profile (no LLM involved)."""
        return run_plan(self.tools, self.catalog, profile.to_inputs(), profile.excluded_ids(),
                        weights=weights or None, session_id=session_id, ranker=self.ranker)

    def session(self, user_id: str = "local", session_id: str | None = None) -> Session:
        """A new session, or the saved one with `session_id` (resumed from the store).

        Raises:
            KeyError: when `session_id` is given but unknown.
        """
        if session_id is not None:
            loaded = self.store.load(session_id)
            if loaded is None:
                raise KeyError(f"no saved session {session_id!r}")
            owner, state = loaded
            return Session(self, session_id, owner, SessionState.model_validate(state))
        session = Session(self, None, user_id)
        memory.start_session(session)  # a returning user's memory (no-op when it is off)
        return session

    def sessions(self, user_id: str | None = None) -> list[dict[str, Any]]:
        """Saved sessions, newest first."""
        return self.store.list_sessions(user_id)

    def export_user(self, user_id: str) -> dict[str, Any]:
        """Everything stored about a user, as JSON-ready data."""
        return self.store.export_user(user_id)

    def delete_user(self, user_id: str) -> int:
        """Delete all of a user's sessions; returns how many were removed."""
        return self.store.delete_user(user_id)

    def delete_session(self, session_id: str) -> bool:
        """Delete one session."""
        return self.store.delete_session(session_id)
