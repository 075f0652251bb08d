"""Scripted dialogues (data files in tests/dialogues/) run on the fake backend."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agent.backends.scripted import ScriptedBackend
from agent.testing import keyword_responder

DIALOGUES = sorted((Path(__file__).parent / "dialogues").glob("*.json"))


def scripted_backend(catalog) -> ScriptedBackend:  # type: ignore[no-untyped-def]
    """The keyword fake: the catalog reader does the reading, the fake labels spans when asked."""
    return ScriptedBackend(responder=keyword_responder(catalog))


def check_turn(reply, expect: dict[str, Any], catalog) -> None:  # type: ignore[no-untyped-def]
    p = reply.profile
    assert reply.kind == expect["kind"], reply.text
    if "question_slot" in expect:
        assert reply.question_slot == expect["question_slot"]
    for slot in expect.get("not_question_slot", []):
        assert reply.question_slot != slot
    for key, ids in (("liked_items", p.liked_items), ("disliked_items", p.disliked_items)):
        for item_id in expect.get(key, []):
            assert item_id in [i.item_id for i in ids], (key, item_id)
    for e in expect.get("liked_entities", []):
        assert e in p.liked_entities
    for e in expect.get("disliked_entities", []):
        assert e in p.disliked_entities
    for e in expect.get("no_disliked_entities", []):
        assert e not in p.disliked_entities
    for tool in expect.get("tools_used", []):
        assert tool in reply.tools_used, reply.tools_used
    if "year_min" in expect:
        assert p.constraints.year_min == expect["year_min"]
        assert p.constraints.year_max == expect["year_max"]
    assert sorted(reply.unknown_titles) == sorted(expect.get("unknown_titles", []))
    recs = reply.recommendations
    if reply.kind == "recommendations":
        assert recs, "a recommendation turn must recommend"
    ids = [r.item_id for r in recs]
    for item_id in expect.get("forbidden_items", []):
        assert item_id not in ids
    for genre in expect.get("forbidden_genres", []):
        assert all(genre not in catalog.items[i].genres for i in ids)
    if "some_of_items" in expect:
        assert set(expect["some_of_items"]) & set(ids), ids
    if "top_items_genre" in expect:
        hits = sum(expect["top_items_genre"] in catalog.items[i].genres for i in ids)
        assert hits >= len(ids) // 2 + 1, [catalog.items[i].title for i in ids]
    if p.constraints.year_min is not None:
        assert all(catalog.items[i].year >= p.constraints.year_min for i in ids)
    for rec in recs:
        assert rec.evidence and rec.justification and rec.grounded


@pytest.mark.parametrize("path", DIALOGUES, ids=[p.stem for p in DIALOGUES])
def test_dialogue(path: Path, ml100k, ml100k_agent_factory) -> None:  # type: ignore[no-untyped-def]
    spec = json.loads(path.read_text())
    backend = scripted_backend(ml100k)
    agent = ml100k_agent_factory(backend)
    session = agent.session("tester")
    shown: list[str] = []
    for turn in spec["turns"]:
        reply = session.send(turn["user"])
        check_turn(reply, turn["expect"], ml100k)
        ids = [r.item_id for r in reply.recommendations]
        assert not set(ids) & set(shown), "an item was recommended twice"
        shown += ids
    schema_calls = [r for r in backend.requests if r["json_schema"] is not None]
    assert len(schema_calls) <= len(spec["turns"])  # the LLM labels only ambiguous readings
    assert all("labels" in r["json_schema"]["properties"] for r in schema_calls)
    resumed = agent.session(session_id=session.id)
    assert resumed.profile == session.profile
    assert len(resumed.history()) == len(spec["turns"])
