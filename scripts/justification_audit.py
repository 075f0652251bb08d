"""Draft justifications with the real model over varied evidence and record the claim check's verdicts.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/justification_audit.py draft \
        --out reports/justification_drafts.jsonl
    .venv/bin/python scripts/justification_audit.py rates tests/data/justification_audit.jsonl

`draft` appends one JSON line per (case, variant) and skips those already in --out, so an
interrupted run resumes. The audit set in tests/data is these lines with a human label and
reason added; `rates` prints each variant's draft pass rate and, on labelled lines, the
checker's verdicts against the labels.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.claims import check_claims  # noqa: E402
from agent.justify import VARIANTS, facts_for, justify, seed_years  # noqa: E402
from catalog.models import Item  # noqa: E402
from tools.base import Evidence  # noqa: E402

log = logging.getLogger("justification_audit")

PROFILES: dict[str, list[str]] = {
    # liked titles; "entity:" seeds; "text:" a free-text wish (plot words find plot snippets)
    "ml-100k": [
        "Alien", "Toy Story", "Star Wars", "Fargo", "The Godfather", "Scream", "Die Hard",
        "Jurassic Park", "The Silence of the Lambs", "Aladdin", "Heat", "Batman",
        "entity:genre:comedy", "entity:genre:film-noir", "text:a heist", "text:space adventure",
        "Alien|Star Wars",
    ],
    "movielens-redial": [
        "Alien", "The Matrix", "Toy Story", "Inception", "Pulp Fiction", "The Notebook",
        "Shrek", "The Dark Knight", "Gladiator", "Get Out", "Finding Nemo", "Titanic",
        "entity:person:Ridley Scott", "entity:person:Tom Hanks", "entity:genre:western",
        "entity:tag:time travel", "text:a former Roman general seeks vengeance",
        "text:a young wizard goes to a school of magic", "text:toys come to life",
        "text:a hacker learns the world is a simulation", "Alien|The Matrix",
    ],
}


def collect_cases(catalog_name: str, cache: Path, data_dir: Path, per_profile: int) -> list[dict]:
    """Top candidates with their evidence for each profile (tools only, no LLM)."""
    from agent import Agent, Settings
    from agent.profile import LinkedItem, UserProfile
    from agent.testing import keyword_backend
    from catalog import load_catalog

    catalog = load_catalog(catalog_name, cache, data_dir)
    settings = Settings(backend="scripted", cache_dir=cache, catalog=catalog_name,
                        data_dir=data_dir, sessions_db=cache / "audit-sessions.sqlite3")
    agent = Agent.from_settings(settings, backend=keyword_backend(catalog), catalog=catalog)
    cases, seen = [], set()
    for spec in PROFILES[catalog_name]:
        profile = UserProfile()
        if spec.startswith("entity:"):
            profile.liked_entities = [spec.removeprefix("entity:")]
        elif spec.startswith("text:"):
            profile.keywords = [spec.removeprefix("text:")]
        else:
            for title in spec.split("|"):
                item_id = agent.linker.link_title(title)
                if item_id:
                    profile.liked_items.append(LinkedItem(item_id=item_id, title=title))
        plan = agent.plan(profile)
        taken = 0
        for cand in plan.candidates:
            if taken == per_profile:
                break
            if cand.item_id in seen or not facts_for(cand.evidence):
                continue
            seen.add(cand.item_id)
            taken += 1
            item = catalog.items[cand.item_id]
            cases.append({
                "case": f"{catalog_name}:{spec}:{item.id}", "catalog": catalog_name,
                "profile": spec,
                "item": item.model_dump(include={"id", "title", "year", "genres"}),
                "evidence": [e.model_dump() for e in cand.evidence],
                "years": seed_years(catalog, cand.evidence),
            })
    return cases


def load_backend(cache: Path, threads: int):  # type: ignore[no-untyped-def]
    """The real default model on `threads` CPU threads; one context per system prompt, so each
    variant keeps its prompt prefix cached."""
    from agent.backends.llama_cpp import LlamaCppBackend
    from agent.model_files import DEFAULT_MODEL, resolve_model_path

    return LlamaCppBackend(resolve_model_path(DEFAULT_MODEL, cache), n_threads=threads,
                           contexts=2, n_ctx=2048)


def case_inputs(row: dict) -> tuple[Item, list[Evidence], dict[str, Any]]:
    """The item, evidence and seed years a recorded line was drafted from."""
    item = Item(**row["item"])
    return item, [Evidence(**e) for e in row["evidence"]], row.get("years") or {}


def cmd_draft(args: argparse.Namespace) -> int:
    cases: list[dict] = []
    for name in args.catalogs:
        cases += collect_cases(name, args.cache, args.data_dir, args.per_profile)
    log.info("%d cases", len(cases))
    done = set()
    if args.out.exists():
        for line in args.out.read_text().splitlines():
            row = json.loads(line)
            done.add((row["case"], row["variant"]))
    backend = load_backend(args.cache, args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as out:
        for case in cases:  # variants side by side: a stopped run still compares like with like
            for variant in args.variants:
                if (case["case"], variant) in done:
                    continue
                item, evidence, years = case_inputs(case)
                t = time.perf_counter()
                j = justify(backend, item, evidence, variant=variant, years=years)
                row = {**case, "variant": variant, "facts": facts_for(evidence),
                       "sentence": j.draft, "finish_reason": j.completion.finish_reason
                       if j.completion else None, "status": j.status,
                       "violations": j.draft_check.violations if j.draft_check else [],
                       "seconds": round(time.perf_counter() - t, 2)}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                out.flush()
                log.info("%s %s %s: %s", variant, j.status, case["case"], j.draft)
    return 0


def cmd_rates(args: argparse.Namespace) -> int:
    rows = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    by_variant: dict[str, Counter] = defaultdict(Counter)
    confusion: Counter = Counter()
    for row in rows:
        item, evidence, years = case_inputs(row)
        ok = check_claims(row["sentence"], item, evidence, years=years).ok and \
            row.get("finish_reason") != "length"
        by_variant[row["variant"]]["n"] += 1
        by_variant[row["variant"]]["kept"] += ok
        if "label" in row:
            confusion[(row["label"], "kept" if ok else "rejected")] += 1
            by_variant[row["variant"]]["faithful"] += row["label"] == "faithful"
            if args.show and (row["label"] == "faithful") != ok:
                print(f"[{row['label']} but {'kept' if ok else 'rejected'}] {row['sentence']}\n"
                      f"    {check_claims(row['sentence'], item, evidence, years=years).violations}"
                      f"\n    facts: {row['facts']}")
    print("| variant | drafts | kept by the check | labelled faithful |")
    print("| --- | --- | --- | --- |")
    for name, c in sorted(by_variant.items()):
        faithful = f"{c['faithful'] / c['n']:.0%}" if confusion else "-"
        print(f"| {name} | {c['n']} | {c['kept'] / c['n']:.0%} | {faithful} |")
    if confusion:
        f_total = confusion[("faithful", "kept")] + confusion[("faithful", "rejected")]
        u_total = confusion[("unfaithful", "kept")] + confusion[("unfaithful", "rejected")]
        print(f"faithful kept: {confusion[('faithful', 'kept')]}/{f_total}; "
              f"unfaithful rejected: {confusion[('unfaithful', 'rejected')]}/{u_total}")
    return 0


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True)
    p = sub.add_parser("draft", help="draft with the real model and record the lines")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--catalogs", nargs="+", default=["ml-100k", "movielens-redial"])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--per-profile", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "convrec")
    p.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    p.set_defaults(handler=cmd_draft)
    p = sub.add_parser("rates", help="draft pass rate per variant (and verdicts vs labels)")
    p.add_argument("file", type=Path)
    p.add_argument("--show", action="store_true", help="print disagreements with the labels")
    p.set_defaults(handler=cmd_rates)
    args = parser.parse_args()
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
