"""convrec from LangChain: the recommendation tools as StructuredTools, the LLM backend as a chat model."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from langchain_core.tools import StructuredTool
from pydantic import BaseModel, Field, create_model

from agent.backends.base import LLMBackend
from agent.backends.langchain_adapter import ConvrecChatModel
from agent.linking import EntityLinker
from catalog.models import Catalog
from tools.base import ConvrecTool, InputKind, ProfileInputs, ToolResources, ToolResult, ToolState
from tools.registry import ToolRegistry

log = logging.getLogger(__name__)

DEFAULT_TOOLS = ("vector_retrieval", "kg_expansion", "cf_scoring")
"""The three built-in tools exposed by `build_structured_tools` unless told otherwise."""

_FIELDS: dict[InputKind, tuple[str, Any, Any]] = {
    InputKind.FREE_TEXT: ("query", str, Field("", max_length=2000,
                                              description="What the user wants, in their words.")),
    InputKind.LIKED_ITEMS: ("liked_titles", list[str], Field(
        default_factory=list, max_length=50, description="Films the user likes, e.g. 'Alien (1979)'.")),
    InputKind.DISLIKED_ITEMS: ("disliked_titles", list[str], Field(
        default_factory=list, max_length=50, description="Films the user dislikes.")),
    InputKind.ENTITIES: ("entities", list[str], Field(
        default_factory=list, max_length=50,
        description="Genres, people or tags the user asked for, e.g. 'sci-fi', 'Ridley Scott'.")),
}
"""Profile input kind -> the plain-language argument a LangChain model fills for it."""


def args_model(tool: ConvrecTool, max_k: int = 50) -> type[BaseModel]:
    """The pydantic arguments of one tool as LangChain sees it: titles and names, not ids."""
    fields: dict[str, Any] = {name: (kind_type, default)
                              for kind, (name, kind_type, default) in _FIELDS.items()
                              if kind in tool.consumes}
    fields["k"] = (int, Field(10, ge=1, le=max_k, description="How many films to return."))
    model: type[BaseModel] = create_model(f"{tool.name}_args", **fields)
    return model


class LangChainToolset:
    """Wraps convrec tools for LangChain: links titles and names, runs the tool, reports ids.

    Each tool answers with a JSON text (the linked ids, the mentions it could not link and the
    candidates with title, score and the first line of evidence) and, as the ToolMessage's
    artifact, the typed `ToolResult`.

    Args:
        tools: convrec tools by name (e.g. from `ToolRegistry.create_all`).
        catalog: The catalog the tools were built on (titles are linked against it).
        linker: An entity linker on that catalog (built when not given).
    """

    def __init__(self, tools: Mapping[str, ConvrecTool], catalog: Catalog,
                 linker: EntityLinker | None = None) -> None:
        self.tools = dict(tools)
        self.catalog = catalog
        self.linker = linker or EntityLinker(catalog)

    def profile(self, args: Mapping[str, Any]) -> tuple[ProfileInputs, dict[str, str], list[str]]:
        """The profile for plain arguments, the linked mentions (mention -> id) and the unknown."""
        linked: dict[str, str] = {}
        unknown: list[str] = []
        items: dict[str, list[str]] = {}
        for key in ("liked_titles", "disliked_titles"):
            result = self.linker.link_titles(list(args.get(key) or []))
            items[key] = [item_id for _, item_id in result.items]
            linked.update(dict(result.items))
            unknown += result.unknown
        entities: list[str] = []
        for mention in args.get("entities") or []:
            entity = (self.linker.link_genre(mention) or self.linker.link_person(mention)
                      or self.linker.link_tag(mention))
            if entity is None:
                unknown.append(mention)
            else:
                entities.append(entity)
                linked[mention] = entity
        profile = ProfileInputs(free_text=str(args.get("query") or ""),
                                liked_items=items["liked_titles"],
                                disliked_items=items["disliked_titles"], entities=entities)
        return profile, linked, unknown

    def call(self, name: str, **args: Any) -> tuple[str, ToolResult]:
        """Run tool `name` on plain arguments: (JSON text for the model, typed result)."""
        tool = self.tools[name]
        profile, linked, unknown = self.profile(args)
        result = tool.run_typed(profile, int(args.get("k", 10)), ToolState(session_id="langchain"))
        report: dict[str, Any] = {"tool": name, "linked": linked, "unknown": unknown}
        if result.error:
            report["error"] = result.error
        report["candidates"] = [self._describe(c.item_id, c.score, c.evidence[0].text
                                               if c.evidence else "")
                                for c in result.candidates]
        log.debug("%s: %d candidates, %d unknown mentions", name, len(result.candidates),
                  len(unknown))
        return json.dumps(report, ensure_ascii=False), result

    def _describe(self, item_id: str, score: float, why: str) -> dict[str, Any]:
        item = self.catalog.items.get(item_id)
        return {"item_id": item_id, "title": item.title if item else item_id,
                "score": round(float(score), 4), "why": why}

    def structured_tools(self, names: Iterable[str] | None = None) -> list[StructuredTool]:
        """One LangChain `StructuredTool` per convrec tool (all of them unless `names` says)."""
        out = []
        for name in names or self.tools:
            tool = self.tools[name]

            def run(_name: str = name, **kwargs: Any) -> tuple[str, ToolResult]:
                return self.call(_name, **kwargs)

            out.append(StructuredTool.from_function(
                func=run, name=name, description=tool.description.strip(),
                args_schema=args_model(tool), response_format="content_and_artifact"))
        return out


def build_structured_tools(resources: ToolResources,
                           names: Iterable[str] = DEFAULT_TOOLS) -> list[StructuredTool]:
    """Create convrec's tools on a catalog (cached artifacts reused) and wrap them for LangChain.

    Args:
        resources: Catalog and cache folder, as for `ToolRegistry.create_all`.
        names: Which registered tools to expose.
    """
    registry = ToolRegistry()
    tools = {name: registry.create(name, resources) for name in names}
    return LangChainToolset(tools, resources.catalog).structured_tools()


def chat_model(backend: LLMBackend, **fields: Any) -> ConvrecChatModel:
    """A convrec LLM backend (llama.cpp, llama-server, scripted) as a LangChain chat model.

    It answers text and JSON-schema calls (`max_tokens`, `temperature`, `json_schema` as fields
    or per call); it does not emit tool calls, so pair the tools with a tool-calling model and
    use this one for plain steps such as writing the final answer.
    """
    return ConvrecChatModel(backend=backend, **fields)
