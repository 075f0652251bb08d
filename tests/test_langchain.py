"""A LangChain fake chat model with bound tools calls convrec's real tools (agent.langchain_tools)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from test_tool_contract import SCIFI, checkerboard_catalog

from agent.backends.scripted import ScriptedBackend
from agent.langchain_tools import DEFAULT_TOOLS, build_structured_tools, chat_model
from tools.base import ToolResources, ToolResult


class ToolCallingFake(GenericFakeChatModel):
    """GenericFakeChatModel that accepts `bind_tools` (the schemas travel as the `tools` kwarg)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> Runnable[Any, AIMessage]:
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)


@pytest.fixture(scope="module")
def lc_tools(tmp_path_factory: pytest.TempPathFactory) -> dict[str, BaseTool]:
    catalog = checkerboard_catalog()
    resources = ToolResources(catalog=catalog, cache_dir=Path(tmp_path_factory.mktemp("lc")))
    return {t.name: t for t in build_structured_tools(resources)}


def test_tools_show_plain_arguments(lc_tools: dict[str, BaseTool]) -> None:
    assert sorted(lc_tools) == sorted(DEFAULT_TOOLS)
    props = {name: set(convert_to_openai_tool(t)["function"]["parameters"]["properties"])
             for name, t in lc_tools.items()}
    assert props["vector_retrieval"] == {"query", "k"}
    assert props["cf_scoring"] == {"liked_titles", "disliked_titles", "k"}
    assert props["kg_expansion"] == {"liked_titles", "disliked_titles", "entities", "k"}


def test_fake_model_calls_the_real_tools(lc_tools: dict[str, BaseTool]) -> None:
    calls = [
        {"name": "cf_scoring", "args": {"liked_titles": ["Star Story 0", "Star Story 1"], "k": 5},
         "id": "c1", "type": "tool_call"},
        {"name": "kg_expansion", "args": {"entities": ["Ann Vega", "Nobody Known"], "k": 5},
         "id": "c2", "type": "tool_call"},
        {"name": "vector_retrieval", "args": {"query": "alien robots and laser battles in space",
                                              "k": 5}, "id": "c3", "type": "tool_call"},
    ]
    model = ToolCallingFake(messages=iter([AIMessage(content="", tool_calls=calls),
                                           AIMessage(content="Try Star Story 2.")]))
    bound = model.bind_tools(list(lc_tools.values()))
    history: list[BaseMessage] = [HumanMessage("I loved Star Story 0 and 1; more like them?")]
    reply = bound.invoke(history)
    assert [c["name"] for c in reply.tool_calls] == ["cf_scoring", "kg_expansion", "vector_retrieval"]
    history.append(reply)
    for call in reply.tool_calls:
        message = lc_tools[call["name"]].invoke(call)
        assert isinstance(message, ToolMessage) and message.tool_call_id == call["id"]
        assert isinstance(message.artifact, ToolResult) and message.artifact.error is None
        report = json.loads(str(message.content))
        ids = [c["item_id"] for c in report["candidates"]]
        assert ids and set(ids) <= set(SCIFI), (call["name"], ids)
        assert ids == [c.item_id for c in message.artifact.candidates]
        history.append(message)
    cf, kg = (json.loads(str(m.content)) for m in history[2:4])
    assert not {c["item_id"] for c in cf["candidates"]} & {"sf0", "sf1"}  # liked: not proposed
    assert cf["linked"] == {"Star Story 0": "sf0", "Star Story 1": "sf1"} and cf["unknown"] == []
    assert kg["linked"] == {"Ann Vega": "person:Ann Vega"} and kg["unknown"] == ["Nobody Known"]
    assert bound.invoke(history).content == "Try Star Story 2."


def test_unknown_titles_come_back_named(lc_tools: dict[str, BaseTool]) -> None:
    message = lc_tools["cf_scoring"].invoke(
        {"name": "cf_scoring", "args": {"liked_titles": ["Zzyzx Qwerty"]}, "id": "x",
         "type": "tool_call"})
    report = json.loads(str(message.content))
    assert report["unknown"] == ["Zzyzx Qwerty"] and report["linked"] == {}
    assert [c["item_id"] for c in report["candidates"]] == [
        c.item_id for c in message.artifact.candidates]


def test_backend_as_chat_model_writes_the_answer() -> None:
    backend = ScriptedBackend(["Star Story 2 and 3: same director, same space battles."])
    model = chat_model(backend, max_tokens=40)
    answer = model.invoke([HumanMessage("Summarise: sf2, sf3")])
    assert str(answer.content).startswith("Star Story 2")
    assert backend.requests[-1]["max_tokens"] == 40
