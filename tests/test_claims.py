"""Claim-level checks of justifications: each claim kind, drafts' flags, streaming, the audit set."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_knowledge_graph import tiny_catalog
from test_tui import tui_agent, tui_catalog  # noqa: F401 - fixtures

from agent.backends.scripted import ScriptedBackend
from agent.claims import check_claims
from agent.facts import facts_of
from agent.justify import (
    draft_schema,
    fact_line,
    facts_for,
    justify,
    template_justification,
)
from agent.session import Session
from agent.settings import Settings
from catalog.models import Item
from knowledge_graph import KGExpander, build_graph
from knowledge_graph.paths import strongest_paths
from tools.base import Candidate, Evidence

AUDIT = Path(__file__).parent / "data" / "justification_audit.jsonl"

# The fixture of tests/test_agent_units.py (text only, no data), as quoted in issue 14.
KG = Evidence(tool="kg_expansion", kind="kg_path",
              text="Alien -director-> Ridley Scott <-director- Blade Runner")
CF = Evidence(tool="cf_scoring", kind="cf_neighbour",
              text="Of 212 people who rated Alien 4+, 61% (129) also rated Blade Runner 4+.")
BLADE = Item(id="89", title="Blade Runner", year=1982, genres=["sci-fi", "film-noir"])
# The same facts with their data, as the tools give them.
KG_DATA = Evidence(tool="kg_expansion", kind="kg_path",
                   text="Alien (1979) -director-> Ridley Scott <-director- Blade Runner (1982)",
                   data={"nodes": ["item:183", "person:Ridley Scott", "item:89"],
                         "relations": ["director", "director"], "seed": "item:183",
                         "seed_kind": "item", "weight": 0.7,
                         "names": ["Alien (1979)", "Ridley Scott", "Blade Runner (1982)"],
                         "directions": [True, False]})
# The evidence behind the card quoted in the issue (ml-100k, "I loved The Matrix and Alien").
ALIENS = Item(id="176", title="Aliens", year=1986, genres=["action", "sci-fi", "thriller", "war"])
ALIENS_CF = Evidence(tool="cf_scoring", kind="cf_neighbour",
                     text="Of 223 people who rated Alien 4+, 68% (152) also rated Aliens 4+.",
                     data={"seed_id": "183", "seed_title": "Alien", "item_title": "Aliens",
                           "n_seed_fans": 223, "n_both": 152, "share": 0.6816, "percent": 68,
                           "min_rating": 4.0, "similarity": 0.67})
ALIENS_KG = Evidence(tool="kg_expansion", kind="kg_path",
                     text="Alien (1979) -genre-> sci-fi <-genre- Aliens (1986)",
                     data={"nodes": ["item:183", "genre:sci-fi", "item:176"],
                           "relations": ["genre", "genre"], "seed": "item:183",
                           "seed_kind": "item", "weight": 0.06,
                           "names": ["Alien (1979)", "sci-fi", "Aliens (1986)"],
                           "directions": [True, False]})
SNIPPET = Evidence(tool="vector_retrieval", kind="snippet",
                   text="A blade runner must pursue four replicants.",
                   data={"snippet": "A blade runner must pursue four replicants.",
                         "title": "Blade Runner (1982)", "matched_words": ["replicants"]})


def ok(text: str, item: Item = BLADE, evidence: list[Evidence] | None = None,
       **kw: object) -> bool:
    return check_claims(text, item, evidence if evidence is not None else [KG, CF], **kw).ok


def test_the_false_sentences_quoted_in_the_issue_are_rejected() -> None:
    assert not ok("Of 129 people who rated Alien 4+, 61% also rated Blade Runner 4+.")
    assert not ok("Alien (1982) shares its director Ridley Scott with Blade Runner.",
                  evidence=[KG_DATA, CF])
    assert not ok("Blade Runner is a spin-off of Alien.")
    aliens = ("Aliens (1986) shares the genre sci-fi with Alien (1979) and has a high rating "
              "of 68% among those who rated it.")
    check = check_claims(aliens, ALIENS, [ALIENS_CF, ALIENS_KG])
    assert not check.ok and "number" in check.kinds and "evaluation" in check.kinds


def test_faithful_sentences_are_kept() -> None:
    assert ok("Since you liked Alien, try Blade Runner, by the same director, Ridley Scott.")
    assert ok("Like Alien, it comes from director Ridley Scott.")
    assert ok("Of 212 people who rated Alien 4+, 61% (129) also rated Blade Runner 4+.")
    assert ok("Blade Runner (1982) and Alien (1979) were both directed by Ridley Scott.",
              evidence=[KG_DATA, CF])
    assert ok("If you liked Alien, 152 of the 223 people who rated Alien 4+ also rated "
              "Aliens 4+.", ALIENS, [ALIENS_CF, ALIENS_KG])
    assert ok("Aliens shares the genre sci-fi with Alien, which you liked.", ALIENS,
              [ALIENS_CF, ALIENS_KG])


def test_numbers_must_equal_the_field_they_are_attached_to() -> None:
    ev = [ALIENS_CF]
    assert ok("68% of the 223 people who rated Alien 4+ also rated Aliens 4+.", ALIENS, ev)
    assert ok("Of 223 people who rated Alien 4+, 68% (152) also rated Aliens 4+.", ALIENS, ev)
    assert not ok("Of 152 people who rated Alien 4+, 68% also rated Aliens 4+.", ALIENS, ev)
    assert not ok("223 people who rated Alien 4+ also rated Aliens 4+.", ALIENS, ev)  # base
    assert not ok("Of 223 people who rated Alien 4+, 61% also rated Aliens 4+.", ALIENS, ev)
    assert not ok("Of 223 people who rated Alien 5+, 68% also rated Aliens 5+.", ALIENS, ev)
    assert not ok("Aliens has a 68% rating among fans of Alien.", ALIENS, ev)  # share != rating
    assert not ok("68% of people also rated Aliens 4+.", ALIENS, ev)  # whose fans?
    assert not ok("Aliens was rated 4+ by 300 people.", ALIENS, ev)


def test_a_year_must_be_that_of_its_title() -> None:
    ev = [KG_DATA, CF]
    assert ok("Blade Runner (1982) shares Ridley Scott with Alien (1979).", evidence=ev)
    assert not ok("Blade Runner (1984) shares a director with Alien.", evidence=ev)
    assert not ok("Blade Runner shares a director with Alien (1982).", evidence=ev)
    assert not ok("Released in 1985, it is by Ridley Scott.", evidence=ev)
    # A CF statistic names the liked film without its year: known only when given.
    assert not ok("Since you liked Alien (1979), try it: 68% of Alien's fans rated it 4+.",
                  ALIENS, [ALIENS_CF])
    assert ok("Since you liked Alien (1979), 68% of the fans of Alien also rated it 4+.",
              ALIENS, [ALIENS_CF], years={"183": 1979})


def test_a_person_must_hold_the_stated_role_on_the_stated_films() -> None:
    assert ok("Blade Runner was directed by Ridley Scott, like Alien.")
    assert not ok("Ridley Scott wrote Blade Runner.")
    assert not ok("Blade Runner stars Ridley Scott.")
    assert not ok("It stars Harrison Ford, like Alien.")  # a name the evidence lacks
    star_wars = Evidence(tool="cf", kind="cf_neighbour",
                         text="Of 501 people who rated Star Wars 4+, 30% (150) also rated "
                              "Blade Runner 4+.")
    assert not ok("Like Star Wars, it was directed by Ridley Scott.",
                  evidence=[KG, star_wars])


def test_relation_words_need_a_path() -> None:
    for text in ("Blade Runner is a sequel to Alien.", "Blade Runner is a remake of Alien.",
                 "Blade Runner is based on a novel, like Alien.",
                 "Blade Runner shares a writer with Alien.",
                 "Blade Runner and Alien share the actor Ridley Scott.",
                 "Blade Runner is part of the Alien franchise."):
        assert not ok(text), text
    cat = tiny_catalog()  # Aliens (3) has the prequel Alien (1) in this graph
    path = {r.item_id: r.path for r in KGExpander(build_graph(cat)).expand(["1"], k=10)}["3"]
    ev = [Evidence(tool="kg", kind="kg_path", text=path.text, data=path.data())]
    aliens = cat.items["3"]
    assert ok("Aliens is the sequel to Alien.", aliens, ev)
    assert ok("Alien (1979) is the prequel to Aliens (1986).", aliens, ev)
    assert not ok("Aliens is the prequel to Alien.", aliens, ev)


def test_genres_belong_to_the_item_and_shared_genres_need_a_path() -> None:
    assert ok("Blade Runner is a sci-fi film by Ridley Scott.")
    assert not ok("Blade Runner is a western by Ridley Scott.")  # not its genre
    assert not ok("Like Alien, Blade Runner is sci-fi.", evidence=[CF])  # Alien's genre unknown
    assert ok("Like Alien, Aliens is sci-fi.", ALIENS, [ALIENS_KG])  # the genre path says so


def test_negations_and_comparisons_must_hold() -> None:
    assert not ok("Blade Runner is not directed by Ridley Scott.")
    assert not ok("Unlike Alien, it was directed by Ridley Scott.")
    assert not ok("Blade Runner is better than Alien, by the same director Ridley Scott.")
    assert not ok("It is more popular than Alien.")
    assert ok("More than half of the people who rated Alien 4+ also rated Aliens 4+.", ALIENS,
              [ALIENS_CF])
    assert not ok("More than half of the people who rated Alien 4+ also rated Blade Runner "
                  "4+.", evidence=[CF.model_copy(update={"text": CF.text.replace("61%", "41%")
                                                         .replace("(129)", "(87)")})])
    assert not ok("Most fans of Alien rated it 4+.", evidence=[
        CF.model_copy(update={"text": CF.text.replace("61%", "41%").replace("(129)", "(87)")})])


def test_evaluative_claims_need_evidence_that_carries_them() -> None:
    for text in ("Blade Runner is an acclaimed film by Ridley Scott.",
                 "Blade Runner was well-received, like Alien.",
                 "Blade Runner is a popular film by Ridley Scott.",
                 "Blade Runner has a high rating, like Alien.",
                 "Many people loved Blade Runner."):
        assert not ok(text), text
    popular = Evidence(tool="popularity", kind="popularity",
                       text="583 people in the catalog rated Star Wars (1977)",
                       data={"n_ratings": 583})
    star_wars = Item(id="50", title="Star Wars", year=1977)
    assert ok("Star Wars is popular: 583 people in the catalog rated it.", star_wars, [popular])
    assert ok("Fans of Alien rated Aliens highly: 68% of them rated it 4+.", ALIENS, [ALIENS_CF])


def test_ratings_statistics_are_read_in_their_direction() -> None:
    assert not ok("68% of people who rated Aliens 4+ also rated Alien 4+.", ALIENS, [ALIENS_CF])
    assert not ok("68% of the 223 people who rated it 4+ also rated Alien 4+.", ALIENS,
                  [ALIENS_CF])
    assert not ok("Since you liked Aliens, you may enjoy it.", ALIENS, [ALIENS_CF])


def test_co_mention_counts_and_what_came_after_what() -> None:
    jedi = Item(id="181", title="Return of the Jedi", year=1983)
    ev = [Evidence(tool="comention", kind="comention",
                   text="48 people rated Return of the Jedi 4+ soon after rating Toy Story 4+.",
                   data={"seed_id": "1", "seed_title": "Toy Story",
                         "item_title": "Return of the Jedi", "source": "ratings",
                         "n_users": 48, "min_rating": 4.0})]
    assert ok("48 people rated Return of the Jedi 4+ soon after rating Toy Story 4+.", jedi, ev)
    assert ok("Since you liked Toy Story: 48 people rated Return of the Jedi highly right "
              "after rating Toy Story highly.", jedi, ev)
    assert not ok("Return of the Jedi was released soon after Toy Story.", jedi, ev)
    assert not ok("84 people rated Return of the Jedi 4+ soon after rating Toy Story 4+.", jedi,
                  ev)
    assert not ok("48 people rated Toy Story 4+ soon after rating Return of the Jedi 4+.", jedi,
                  ev)


def test_descriptions_may_be_paraphrased_but_not_embellished() -> None:
    ev = [SNIPPET]
    assert ok("Blade Runner is about a blade runner who must pursue four replicants.", evidence=ev)
    assert not ok("Blade Runner is about a detective who hunts androids in Los Angeles.",
                  evidence=ev)
    assert not ok("Blade Runner is about a blade runner pursuing replicants.", evidence=[KG])


def test_a_year_after_a_title_with_an_alternate_name_is_that_titles_year() -> None:
    """MovieLens keeps an alternate name in parentheses: its year must not slide to the next
    title ("... Lost Ark (Indiana Jones and the Raiders of the Lost Ark) (1981)")."""
    raiders = "Raiders of the Lost Ark (Indiana Jones and the Raiders of the Lost Ark)"
    crusade = Item(id="1291", title="Indiana Jones and the Last Crusade", year=1989,
                   genres=["action", "adventure"])
    path = Evidence(tool="kg_expansion", kind="kg_path",
                    text=f"{raiders} (1981) -director-> Steven Spielberg <-director- "
                         "Indiana Jones and the Last Crusade (1989)",
                    data={"nodes": ["item:1198", "person:Steven Spielberg", "item:1291"],
                          "relations": ["director", "director"], "seed": "item:1198",
                          "seed_kind": "item", "weight": 0.5,
                          "names": [f"{raiders} (1981)", "Steven Spielberg",
                                    "Indiana Jones and the Last Crusade (1989)"],
                          "directions": [True, False]})
    text = template_justification(crusade, [path])
    assert "(1981)" in text and check_claims(text, crusade, [path]).ok, text
    assert ok(f"{raiders} (1981) and Indiana Jones and the Last Crusade (1989) were both "
              "directed by Steven Spielberg.", crusade, [path])
    assert not ok(f"{raiders} (1984) and Indiana Jones and the Last Crusade were both "
                  "directed by Steven Spielberg.", crusade, [path])


def test_templates_pass_their_own_check_for_every_evidence_kind() -> None:
    comention = Evidence(tool="comention", kind="comention",
                         text="33 people rated Aliens 4+ soon after rating Alien 4+.",
                         data={"seed_id": "183", "seed_title": "Alien", "item_title": "Aliens",
                               "source": "ratings", "n_users": 33, "min_rating": 4.0})
    title_only = Evidence(tool="vector_retrieval", kind="snippet", text="Aliens (1986).",
                          data={"snippet": "Aliens (1986).", "title": "Aliens (1986)",
                                "matched_words": ["aliens"]})
    for item, evidence in ((BLADE, [KG]), (BLADE, [CF]), (BLADE, [SNIPPET]),
                           (BLADE, [KG, CF, SNIPPET]), (BLADE, [KG_DATA, CF]),
                           (ALIENS, [ALIENS_CF, ALIENS_KG]), (ALIENS, [comention]),
                           (ALIENS, [title_only])):
        text = template_justification(item, evidence)
        check = check_claims(text, item, evidence)
        assert check.ok, (text, check.violations)


def test_facts_prefer_specific_evidence_and_skip_nameless_entities() -> None:
    genre = Evidence(tool="kg_expansion", kind="kg_path",
                     text="Alien (1979) -genre-> sci-fi <-genre- Blade Runner (1982)",
                     data={**KG_DATA.data, "nodes": ["item:183", "genre:sci-fi", "item:89"],
                           "relations": ["genre", "genre"],
                           "names": ["Alien (1979)", "sci-fi", "Blade Runner (1982)"]})
    facts = facts_for([genre, CF, KG_DATA], limit=3)
    assert facts[0].endswith("directed by Ridley Scott.") and "sci-fi" in facts[2]
    nameless = Evidence(tool="kg_expansion", kind="kg_path",
                        text="Toy Story (1995) -actor-> (an actor) <-actor- Babe (1995)",
                        data={"nodes": ["item:1", "fb:m.01lx_z", "item:8"],
                              "relations": ["actor", "actor"], "seed": "item:1",
                              "seed_kind": "item", "weight": 0.4,
                              "names": ["Toy Story (1995)", "", "Babe (1995)"],
                              "directions": [True, False]})
    assert fact_line(nameless) == "" and facts_for([nameless]) == []
    assert fact_line(nameless.model_copy(update={"data": {}})) == ""  # text form too


def test_shown_kg_paths_avoid_nameless_entities() -> None:
    cat = tiny_catalog()  # The Terminator and Amelie share only a nameless writer and 'film'
    kg = build_graph(cat)
    x = KGExpander(kg)
    rows = x.rows_of(["6"])
    kw = dict(two_hop=x.two_hop, one_hop=x.one_hop, links=x.links, seed_rows=x.rows_of(["4"]),
              seed_cols=[], weights=x.settings.relation_weights, default=x.settings.default_weight)
    anything = strongest_paths(kg, rows, **kw)[0]
    named = strongest_paths(kg, rows, named_only=True, **kw)[0]
    assert anything is not None and "(a writer)" in anything.text
    assert named is not None and named.relations == ("genre", "genre") and all(named.names)


def test_draft_status_records_passed_repaired_replaced_and_none() -> None:
    ev = [KG_DATA, CF]
    passed = justify(ScriptedBackend(replies=["Like Alien, it comes from director Ridley "
                                              "Scott."]), BLADE, ev)
    assert (passed.status, passed.source, passed.grounded) == ("passed", "llm", True)
    repaired = justify(ScriptedBackend(replies=["Blade Runner (1984) was directed by Ridley "
                                                "Scott, like Alien."]), BLADE, ev)
    assert repaired.status == "repaired" and repaired.source == "llm"
    assert "(1982)" in repaired.text and not repaired.grounded
    assert any(v.startswith("year") for v in repaired.rejected)
    dropped = justify(ScriptedBackend(replies=["Blade Runner was directed by Ridley Scott, and "
                                               "it is an acclaimed classic."]), BLADE, ev)
    assert dropped.status == "repaired" and dropped.text == (
        "Blade Runner was directed by Ridley Scott.")
    replaced = justify(ScriptedBackend(replies=["Blade Runner is the sequel to Alien, starring "
                                                "Tom Cruise."]), BLADE, ev)
    assert replaced.status == "replaced" and replaced.source == "template"
    assert not replaced.grounded and replaced.rejected and replaced.grounding.ok
    assert replaced.draft.startswith("Blade Runner is the sequel")
    none = justify(None, BLADE, ev)
    assert none.status == "none" and none.grounded and none.draft == ""


def test_the_grammar_lets_names_and_numbers_in_only_from_the_evidence() -> None:
    llama_cpp = pytest.importorskip("llama_cpp")
    schema = draft_schema(facts_of(ALIENS, [ALIENS_CF, ALIENS_KG]))
    llama_cpp.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)  # compiles
    pattern = re.compile(schema["pattern"])
    assert pattern.match("Since you liked Alien (1979), 68% of the 223 people who rated Alien "
                         "4+ also rated Aliens 4+.")
    assert not pattern.match("Aliens stars Sigourney Weaver.")
    assert not pattern.match("Aliens has a rating of 75%.")
    et = Item(id="423", title="E.T. the Extra-Terrestrial", year=1982)
    schema = draft_schema(facts_of(et, [ALIENS_CF.model_copy(update={"data": {
        **ALIENS_CF.data, "item_title": et.title}})]))
    grammar = llama_cpp.LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)._grammar
    # No backslash escapes reach the grammar: llama.cpp's parser refuses '\.' and aborts.
    assert not re.findall(r"\\.", grammar.replace('\\"', ""))
    assert re.match(schema["pattern"], "E.T. the Extra-Terrestrial (1982) was rated 4+ by 68% of "
                    "the 223 people who rated Alien 4+.")


def _session(backend: ScriptedBackend) -> Session:
    catalog = SimpleNamespace(items={BLADE.id: BLADE, ALIENS.id: ALIENS})
    settings = Settings(backend="scripted", n_recommendations=2, llm_justified=1)
    agent = SimpleNamespace(settings=settings, backend=backend, catalog=catalog)
    return Session(agent, "s1")  # type: ignore[arg-type]


@pytest.mark.parametrize("draft,status", [
    ("Like Alien, it comes from director Ridley Scott.", "passed"),
    ("Blade Runner is the sequel to Alien, starring Tom Cruise.", "replaced"),
])
def test_first_card_streams_and_a_refused_draft_is_replaced_in_place(draft: str,
                                                                     status: str) -> None:
    plan = [Candidate(item_id=BLADE.id, score=1.0, evidence=[KG_DATA, CF]),
            Candidate(item_id=ALIENS.id, score=0.5, evidence=[ALIENS_CF])]
    session = _session(ScriptedBackend(replies=[draft]))
    pieces: list[str] = []
    cards: list = []
    calls: list = []
    reply = session._recommend(plan, [], calls, {}, pieces.append, cards.append)
    assert [c.stage for c in calls] == ["justification"]  # only the first card is drafted
    streamed = [c for c in cards if c.draft_status == "streaming"]
    assert len(streamed) >= 3 and streamed[-1].justification.strip() == draft  # token by token
    assert "".join(pieces).count(draft.split()[0]) >= 1
    first = reply.recommendations[0]
    assert first.draft_status == status and cards[len(streamed)] == first
    assert cards[-1].item_id == ALIENS.id and cards[-1].draft_status == "none"
    text = "".join(pieces)
    if status == "replaced":
        assert "[checked: replaced by the evidence] " + first.justification in text
        assert first.draft == draft and first.draft_violations and not first.grounded
        assert first.justification_source == "template"
    else:
        assert "[checked" not in text and first.grounded and first.justification == draft


def _audit_rows() -> list[dict]:
    return [json.loads(line) for line in AUDIT.read_text().splitlines() if line.strip()]


def test_audit_set_is_large_varied_and_labelled() -> None:
    rows = _audit_rows()
    assert len(rows) >= 150
    assert {r["catalog"] for r in rows} == {"ml-100k", "movielens-redial"}
    kinds = {e["kind"] for r in rows for e in r["evidence"]}
    assert {"cf_neighbour", "kg_path", "snippet"} <= kinds
    assert all(r["label"] in ("faithful", "unfaithful") and r["reason"].strip() for r in rows)
    assert all(r["sentence"].strip() for r in rows)


def test_checker_rejects_every_unfaithful_audit_sentence_and_keeps_most_faithful() -> None:
    rows = _audit_rows()
    kept_faithful = n_faithful = 0
    missed = []
    for r in rows:
        item = Item(**r["item"])
        evidence = [Evidence(**e) for e in r["evidence"]]
        verdict = check_claims(r["sentence"], item, evidence, years=r.get("years")).ok
        if r["label"] == "unfaithful" and verdict:
            missed.append((r["sentence"], r["reason"]))
        if r["label"] == "faithful":
            n_faithful += 1
            kept_faithful += verdict
    assert not missed, missed
    assert n_faithful and kept_faithful / n_faithful >= 0.70, (kept_faithful, n_faithful)


def test_bench_turn_reports_the_first_llm_token_and_the_shown_share(
        ml100k, real_home: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from agent.testing import keyword_backend
    from benchmarks.turn import run_turn_bench, write_report

    settings = Settings(backend="scripted", catalog="ml-100k", cache_dir=real_home,
                        sessions_db=tmp_path / "s.sqlite3")
    result = run_turn_bench(settings, repeats=1, progress=False, backend=keyword_backend(ml100k),
                            conversation=["I loved Alien and Star Wars, recommend something"])
    first = result["first_llm_token"]
    assert first and first["n"] == 1 and 0 <= first["p50"] < 60
    f = result["faithfulness"]
    assert f["cards"] >= 1 and f["drafts"] == 1 and f["passed"] + f["repaired"] + f["replaced"] == 1
    assert f["llm_shown_share"] is not None
    md = write_report(result, tmp_path, "bench-turn").read_text()
    assert "first visible LLM token" in md and "## Justifications" in md


async def test_tui_replaces_a_refused_streamed_draft_in_the_card(tui_agent) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from test_tui import FIRST_TURN, send, variant

    from tui.app import ConvrecApp

    inner = tui_agent.backend

    class LyingJustifier:
        name = "lying"

        def chat(self, messages, **kw):  # type: ignore[no-untyped-def]
            if kw.get("json_schema") is None and "Facts:" in messages[-1]["content"]:
                return ScriptedBackend(replies=["It is the sequel to Alien, starring Tom "
                                                "Cruise."]).chat(messages, **kw)
            return inner.chat(messages, **kw)

    app = ConvrecApp(agent=variant(tui_agent, backend=LyingJustifier()))
    async with app.run_test(size=(120, 40)) as pilot:
        await send(app, pilot, FIRST_TURN)
        cards = app.cards.cards
        ids = [c.recommendation.item_id for c in cards]
        assert len(cards) == 5 and len(set(ids)) == 5  # updated in place, not added again
        first = cards[0]
        assert first.recommendation.draft_status == "replaced"
        assert "checked: the model's sentence was replaced by the evidence" in first.plain
        assert "Tom Cruise" not in first.plain


def test_a_draft_cut_at_max_tokens_keeps_its_finished_clauses() -> None:
    class Cut(ScriptedBackend):
        def chat(self, messages, **kw):  # type: ignore[no-untyped-def]
            done = super().chat(messages, **kw)
            done.finish_reason = "length"
            return done

    j = justify(Cut(replies=["Since you liked Alien, Blade Runner comes from the same director, "
                             "Ridley Scott, and 61% of the 212 people who rated"]), BLADE,
                [KG_DATA, CF])
    assert j.status == "repaired" and any(v.startswith("cut") for v in j.rejected)
    assert j.text == "Since you liked Alien, Blade Runner comes from the same director, Ridley Scott."
