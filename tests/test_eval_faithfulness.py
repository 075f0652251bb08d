"""The interview report's faithfulness section: what became of each card's LLM draft."""

from __future__ import annotations

from pathlib import Path

from test_eval_harness import hand_split, tiny_catalog

from evaluation.faithfulness import faithfulness_by_method
from evaluation.interview import run_interviews
from evaluation.report import write_interview_report


def test_interview_run_counts_drafts_and_the_report_shows_them(tmp_path: Path) -> None:
    from agent.settings import Settings
    from agent.testing import keyword_backend

    catalog = tiny_catalog()
    settings = Settings(cache_dir=tmp_path / "cache", backend="scripted", llm_justified=2)
    res = run_interviews(catalog=catalog, split=hand_split(catalog), n_users=3, turns=[3],
                         k=2, ks=[1, 2], settings=settings, backend=keyword_backend(catalog),
                         methods=["agent", "popularity"], show_progress=False,
                         users_from="all")
    cards = [card for c in res["conversations"]["agent"] for t in c["turns"]
             for card in t["cards"]]
    rec_turns = [t for c in res["conversations"]["agent"] for t in c["turns"]
                 if t["kind"] == "recommendations"]
    assert rec_turns, "the tiny run must reach a recommendation turn"
    stats = res["methods"]["agent"]["faithfulness"]
    assert stats["cards"] == len(cards) == sum(len(t["recommended"]) for t in rec_turns)
    drafted = [c for c in cards if c["draft_status"] != "none"]
    assert stats["drafts"] == len(drafted) == sum(min(2, len(t["recommended"]))
                                                  for t in rec_turns)
    assert stats["passed"] + stats["repaired"] + stats["replaced"] == stats["drafts"]
    assert stats["draft_pass_rate"] == stats["passed"] / stats["drafts"]
    assert res["methods"]["popularity"]["faithfulness"]["drafts"] == 0  # baselines: no text

    report = write_interview_report(res, tmp_path / "report").read_text()
    section = report.split("## Faithfulness of justifications")[1].split("\n## ")[0]
    row = next(line for line in section.splitlines() if line.startswith("| agent |"))
    assert f"| {stats['cards']} | {stats['drafts']} | {stats['passed']} |" in row
    assert "| popularity |" not in section


def test_no_drafts_no_section() -> None:
    none = {"cards": 5, "drafts": 0, "passed": 0, "repaired": 0, "replaced": 0, "none": 5}
    assert faithfulness_by_method({"agent": {"faithfulness": none}, "cf": {}}) == ""
    some = dict(none, drafts=2, passed=1, replaced=1, none=3, draft_pass_rate=0.5,
                fallback_rate=0.5, llm_shown_share=0.2, violation_kinds={"number": 1})
    text = faithfulness_by_method({"agent": {"faithfulness": some}})
    assert "| agent | 5 | 2 | 1 | 0 | 1 | 50% | 50% | 20% |" in text
    assert "number 1" in text
