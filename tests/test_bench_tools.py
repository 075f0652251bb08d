"""`convrec bench tools` on a tiny synthetic catalog: per-tool latencies, report files, CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.tools_bench import (
    RETRIEVAL,
    TOOL_NAMES,
    parse_sizes,
    render_markdown,
    run_tools_bench,
    synthetic_catalog,
    write_tools_report,
)


@pytest.fixture(scope="module")
def tiny_result(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The benchmark at 300 items and 5 queries, in a work folder of its own."""
    work = tmp_path_factory.mktemp("bench") / "work"
    result = run_tools_bench([300], queries=5, workdir=work, show=False)
    assert not work.exists(), "synthetic artifacts must be removed without --keep"
    return result


def test_every_tool_has_positive_latencies(tiny_result: dict) -> None:
    result = json.loads(json.dumps(tiny_result))  # JSON-able as it is
    (size,) = result["sizes"]
    assert size["items"] == 300 and size["interactions"] > 0 and size["triples"] > 0
    assert size["peak_rss_mb"] > 0
    assert set(size["tools"]) == set(TOOL_NAMES)
    for name, tool in size["tools"].items():
        assert tool["score_ms"]["n"] == 5, name
        assert tool["score_ms"]["p50"] > 0 and tool["score_ms"]["p95"] > 0, name
        assert tool["build_s"] > 0 and tool["candidates_mean"] > 0, name
        assert tool["pass"] is None  # targets are judged at 10,000 items only
    retrieval = size["tools"][RETRIEVAL]
    embed_p50 = result["embedder"]["query_embed_ms"]["p50"]
    assert retrieval["search_ms"]["p50"] > 0 and embed_p50 > 0
    assert retrieval["total_p50_ms"] == pytest.approx(embed_p50 + retrieval["search_ms"]["p50"],
                                                      abs=0.01)


def test_report_files(tiny_result: dict, tmp_path: Path) -> None:
    md = write_tools_report(tiny_result, tmp_path)
    assert json.loads((tmp_path / "bench-tools.json").read_text())["sizes"][0]["items"] == 300
    text = md.read_text()
    assert all(name in text for name in TOOL_NAMES)
    assert "no 10000-item catalog" in text


def test_synthetic_catalog_shape() -> None:
    syn = synthetic_catalog(500, seed=3)
    catalog = syn.catalog
    assert len(catalog.items) == 500 and syn.n_users == 50 and syn.n_people == 10
    assert {t.relation for t in catalog.triples} == {"director", "actor"}
    assert all(1 <= len(item.genres) <= 3 for item in catalog.items.values())
    counts = sorted(catalog.popularity().values(), reverse=True)
    assert counts[0] > 5 * counts[len(counts) // 2]  # a power law, not uniform
    assert synthetic_catalog(500, seed=3).catalog.content_hash() == catalog.content_hash()


def test_parse_sizes() -> None:
    assert parse_sizes("10000") == [10_000]
    assert parse_sizes("1m,10k,100_000,10000") == [10_000, 100_000, 1_000_000]


def test_cli_flags() -> None:
    from convrec.cli import build_parser

    args = build_parser().parse_args(["bench", "tools", "--items", "10000,100000", "--queries",
                                      "7", "--json", "--report", "out", "--seed", "4", "--keep"])
    assert args.items == [10_000, 100_000] and args.queries == 7 and args.seed == 4
    assert args.json and args.keep and args.report == Path("out")
    defaults = build_parser().parse_args(["bench", "tools"])
    assert defaults.items == [10_000] and defaults.queries == 200
    assert defaults.report == Path("reports/bench")


def test_kept_artifacts_are_reused_by_a_second_run(tmp_path: Path) -> None:
    """With a kept work folder the second run loads the store instead of refilling it."""
    work = tmp_path / "work"
    first = run_tools_bench([200], queries=3, workdir=work, keep=True, show=False)
    second = run_tools_bench([200], queries=3, workdir=work, keep=True, show=False)
    (a,), (b,) = first["sizes"], second["sizes"]
    assert not a["reused_artifacts"] and b["reused_artifacts"]
    assert b["tools"][RETRIEVAL]["store_fill_s"] < a["tools"][RETRIEVAL]["store_fill_s"]
    assert b["tools"][RETRIEVAL]["candidates_mean"] == a["tools"][RETRIEVAL]["candidates_mean"]
    assert "(kept, loaded)" in render_markdown(second)
