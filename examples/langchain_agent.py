"""Example: a LangChain tool-calling loop over convrec's tools, answered by convrec's LLM backend.

    python examples/langchain_agent.py --liked "Alien (1979)" "Blade Runner (1982)" \
        --want "a tense space thriller" --catalog ml-100k

The tools are built (or loaded from the cache `convrec build` filled) on the configured
catalog. The step that decides which tools to call is a LangChain fake chat model emitting the
tool calls a tool-calling model would (offline, no API key); put any tool-calling LangChain model
there instead (`model.bind_tools(tools)`). The final answer is written by convrec's own backend as
a LangChain chat model: the configured one (llama.cpp by default), or `--backend scripted` to
print the tool results without loading a model.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from agent.langchain_tools import build_structured_tools, chat_model
from agent.settings import load_settings
from catalog.loading import load_catalog
from tools.base import ToolResources

log = logging.getLogger(__name__)


def planned_calls(liked: list[str], want: str, k: int) -> list[dict[str, Any]]:
    """The tool calls a tool-calling model would make for this request."""
    calls = []
    if want:
        calls.append({"name": "vector_retrieval", "args": {"query": want, "k": k}})
    if liked:
        calls.append({"name": "cf_scoring", "args": {"liked_titles": liked, "k": k}})
        calls.append({"name": "kg_expansion", "args": {"liked_titles": liked, "k": k}})
    return [{**c, "id": f"call{i}", "type": "tool_call"} for i, c in enumerate(calls)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--liked", nargs="*", default=[], help="titles the user likes")
    parser.add_argument("--want", default="", help="what the user wants, in words")
    parser.add_argument("--catalog", help="catalog name or folder (default: the setting)")
    parser.add_argument("--backend", help="'scripted' to skip the model (default: the setting)")
    parser.add_argument("-k", type=int, default=5, help="films per tool")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in (("catalog", args.catalog), ("backend", args.backend)) if v}
    settings = load_settings(**overrides)
    cache = settings.resolved_cache_dir()
    catalog = load_catalog(settings.catalog, cache, settings.data_dir)
    tools = {t.name: t for t in build_structured_tools(
        ToolResources(catalog=catalog, cache_dir=cache, store_url=settings.store_url))}

    request = HumanMessage(f"I like {', '.join(args.liked) or 'nothing yet'}. {args.want}".strip())
    calls = planned_calls(args.liked, args.want, args.k)
    planner = GenericFakeChatModel(messages=iter([AIMessage(content="", tool_calls=calls)]))
    history: list[BaseMessage] = [request, planner.invoke([request])]
    for call in history[-1].tool_calls if isinstance(history[-1], AIMessage) else []:
        result = tools[call["name"]].invoke(call)
        assert isinstance(result, ToolMessage)
        history.append(result)
        report = json.loads(str(result.content))
        print(f"{call['name']}: linked {report['linked']}, unknown {report['unknown']}")
        for c in report["candidates"]:
            print(f"  {c['item_id']:>8}  {c['score']:.3f}  {c['title']}  | {c['why']}")

    if settings.backend == "scripted":
        return 0
    from agent.backends.factory import make_backend

    writer = chat_model(make_backend(settings, cache), max_tokens=200)
    prompt: list[BaseMessage] = [SystemMessage(
        "Recommend three films from the tool results, none the user named, one line each.")]
    prompt += [HumanMessage(f"{m.type}: {m.content}") for m in history if m.content]
    print("\n" + str(writer.invoke(prompt).content))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
