"""Unit tests of the agent's pieces: grounding, linking, updates, policy, understanding, store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent.backends.scripted import ScriptedBackend
from agent.grounding import check_grounding
from agent.justify import justify, template_justification
from agent.linking import EntityLinker
from agent.policy import decide
from agent.profile import LinkedItem, UserProfile
from agent.reading import Reader
from agent.store import SessionStore
from agent.understanding import label_schema, understand
from agent.updates import apply_reading
from catalog.models import Item
from tools.base import Evidence

KG = Evidence(tool="kg_expansion", kind="kg_path",
              text="Alien -director-> Ridley Scott <-director- Blade Runner")
CF = Evidence(tool="cf_scoring", kind="cf_neighbour",
              text="Of 212 people who rated Alien 4+, 61% (129) also rated Blade Runner 4+.")
BLADE = Item(id="89", title="Blade Runner", year=1982, genres=["sci-fi", "film-noir"])


def test_grounding_accepts_faithful_and_rejects_invented_facts() -> None:
    allowed = [KG.text, CF.text, BLADE.display_title, "sci-fi film-noir"]
    ok = "Since you liked Alien, try Blade Runner, by the same director, Ridley Scott."
    assert check_grounding(ok, allowed).ok
    assert not check_grounding("Blade Runner is a sequel to Alien.", allowed).ok
    assert not check_grounding("Of 212 fans of Alien, 75% loved it.", allowed).ok  # number
    bad_year = check_grounding("Blade Runner (1984) shares a director with Alien.", allowed)
    assert "number 1984" in bad_year.violations
    assert not check_grounding("It stars Harrison Ford, like Alien.", allowed).ok  # name+relation


def test_grounding_accepts_possessive_titles() -> None:
    text = "It shares an actor with Schindler's List (1993)."
    assert check_grounding(text, ["Schindler's List (1993) -actor-> (an actor) <-actor- X"]).ok
    assert not check_grounding(text, ["Oskar List (1993) -actor-> (an actor) <-actor- X"]).ok


def test_justify_falls_back_to_template_when_llm_invents() -> None:
    lying = ScriptedBackend(replies=["Blade Runner is the sequel to Alien, starring Tom Cruise."])
    j = justify(lying, BLADE, [KG, CF])
    assert j.source == "template" and j.grounding.ok and j.rejected
    assert "Ridley Scott" in j.text
    faithful = ScriptedBackend(replies=["Like Alien, it comes from director Ridley Scott."])
    j2 = justify(faithful, BLADE, [KG, CF])
    assert j2.source == "llm" and j2.text.startswith("Like Alien")
    assert faithful.requests[0]["max_tokens"] <= 64 and faithful.requests[0]["stop"] == ["\n"]


def test_template_is_grounded_for_every_evidence_kind() -> None:
    snippet = Evidence(tool="vector_retrieval", kind="snippet",
                       text="A blade runner must pursue four replicants.")
    for ev in ([KG], [CF], [snippet], [KG, CF, snippet]):
        text = template_justification(BLADE, ev)
        assert check_grounding(text, [e.text for e in ev] + [BLADE.display_title]).ok, text


def test_linking_titles_years_articles_and_unknowns(ml100k) -> None:  # type: ignore[no-untyped-def]
    linker = EntityLinker(ml100k)
    assert linker.link_title("Alien") == "183"
    assert linker.link_title("alien (1979)") == "183"
    assert linker.link_title("The Usual Suspects") == "12"
    assert linker.link_title("Usual Suspects") == "12"
    assert linker.link_title("Star Wars") == "50"
    assert linker.link_title("Empire Strikes Back") == "172"
    assert linker.link_title("The Matrix") is None  # ml-100k ends in 1998
    assert linker.link_genre("scary") == "genre:horror"
    assert linker.link_genre("Sci-Fi") == "genre:sci-fi"
    assert linker.link_genre("science fiction") == "genre:sci-fi"
    assert linker.link_person("Ridley Scott") is None  # ml-100k's KG has no names


def test_linking_people_on_redial(redial_catalog) -> None:  # type: ignore[no-untyped-def]
    linker = EntityLinker(redial_catalog)
    assert linker.link_person("ridley scott") == "person:Ridley Scott"
    assert linker.link_title("The Matrix") == "2571"


def test_years_must_be_stated_not_read_off_titles(redial_catalog) -> None:  # type: ignore[no-untyped-def]
    reader = Reader(EntityLinker(redial_catalog))
    assert not reader.read("I really liked Deadpool 2 (2018).").of_kind("era")
    assert reader.read("something from the 90s").of_kind("era")[0].value == "era:1990-1999"
    assert reader.read("the nineties, please").of_kind("era")[0].value == "era:1990-1999"
    assert reader.read("something recent").of_kind("era")[0].value == "era:2013-"


def test_updates_handle_corrections(ml100k) -> None:  # type: ignore[no-untyped-def]
    linker = EntityLinker(ml100k)
    reader = Reader(linker)
    p = UserProfile()
    update = apply_reading(p, reader.read("I loved Alien and The Matrix (1999), no horror"), linker)
    assert update.unknown == ["The Matrix (1999)"]
    assert [i.item_id for i in p.liked_items] == ["183"]
    assert "genre:horror" in p.disliked_entities
    assert p.constraints.genres_excluded == ["horror"]
    apply_reading(p, reader.read("Actually I like horror. I hated Alien."), linker)
    assert "genre:horror" in p.liked_entities and "genre:horror" not in p.disliked_entities
    assert p.constraints.genres_excluded == []
    assert not p.liked_items and [i.item_id for i in p.disliked_items] == ["183"]


def test_policy_asks_informative_unknown_slots_then_recommends(ml100k) -> None:  # type: ignore[no-untyped-def]
    p = UserProfile()
    first = decide(p, "give_preferences", ["1", "50", "181"], ml100k, 0)
    assert first.action == "ask" and first.slot == "liked_title"
    p.asked_slots.append("liked_title")
    p.liked_items.append(LinkedItem(item_id="1", title="Toy Story"))
    second = decide(p, "give_preferences", list(ml100k.items)[:50], ml100k, 1)
    assert second.action == "ask" and second.slot not in ("liked_title", "person", "keywords")
    assert decide(p, "ask_recommendations", [], ml100k, 0).action == "recommend"
    p.liked_items.append(LinkedItem(item_id="50", title="Star Wars"))
    assert decide(p, "give_preferences", [], ml100k, 1).action == "recommend"


def test_understanding_keeps_the_readers_labels_when_the_llm_fails(ml100k) -> None:  # type: ignore[no-untyped-def]
    reader = Reader(EntityLinker(ml100k))
    broken = ScriptedBackend(replies=["{not json"])
    result = understand(broken, reader, "Have you seen Alien?", mode="always")
    assert not result.valid_json and result.used_llm
    assert [(s.value, s.label) for s in result.reading.of_kind("title")] == [("183", "liked")]
    silent = ScriptedBackend()
    assert not understand(silent, reader, " \x00\x07 ").reading.spans and not silent.requests


def test_llm_labels_only_the_spans_it_is_given(ml100k) -> None:  # type: ignore[no-untyped-def]
    reader = Reader(EntityLinker(ml100k))
    reply = {"intent": "prefs", "labels": {"Alien": "disliked", "horror": "liked"},
             "missed": ["Titanic", "Star Wars"]}
    backend = ScriptedBackend(replies=[reply])
    result = understand(backend, reader, "Alien and horror, also Star Wars", mode="always")
    labels = {s.text: s.label for s in result.reading.spans}
    assert labels["Alien"] == "disliked" and labels["horror"] == "liked"
    # "Titanic" is not in the message: an invention is dropped; "Star Wars" was missed: linked
    assert "Titanic" not in labels and labels.get("Star Wars") == "liked"


def test_label_schema_enumerates_the_spans(ml100k) -> None:  # type: ignore[no-untyped-def]
    reader = Reader(EntityLinker(ml100k))
    reading = reader.read("I loved Alien but no horror")
    schema = label_schema(reading.spans)
    labels = schema["properties"]["labels"]
    assert labels["required"] == ["Alien", "horror"] and not labels["additionalProperties"]
    assert labels["properties"]["Alien"]["enum"] == ["liked", "disliked", "seen", "neutral"]
    assert schema["properties"]["missed"]["maxItems"] <= 3


def test_store_roundtrip_export_delete(tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "s.sqlite3")
    store.save_turn("s1", "alice", {"turn": 1}, 1, "hi", {"text": "hello"})
    store.save_turn("s2", "alice", {"turn": 1}, 1, "yo", {"text": "hey"})
    store.save_turn("s3", "bob", {"turn": 1}, 1, "x", {"text": "y"})
    exported = store.export_user("alice")
    assert {s["id"] for s in exported["sessions"]} == {"s1", "s2"}
    assert json.loads(json.dumps(exported))["sessions"][0]["turns"][0]["user"] in ("hi", "yo")
    assert store.delete_user("alice") == 2
    assert store.list_sessions("alice") == [] and store.load("s1") is None
    assert store.load("s3") is not None


def test_corrupt_store_is_one_clear_error(tmp_path: Path) -> None:
    from catalog.errors import ArtifactError

    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ArtifactError, match="fix"):
        SessionStore(bad)
