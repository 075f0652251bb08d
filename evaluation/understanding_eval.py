"""Understanding-set scorer: read each labelled message in a fresh session, diff the profile, score it."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from catalog.errors import DataError, UserFacingError
from catalog.models import Catalog
from evaluation.stats import bootstrap

if TYPE_CHECKING:
    from agent.backends.base import Completion, LLMBackend, Message
    from agent.core import Agent
    from agent.profile import UserProfile
    from agent.session import Session

log = logging.getLogger(__name__)

CATALOG = "movielens-redial"
TITLE_FIELDS = ("liked_titles", "disliked_titles", "seen_titles")
GENRE_FIELDS = ("liked_genres", "disliked_genres")
PEOPLE_FIELDS = ("people", "disliked_people")
FIELDS = TITLE_FIELDS + GENRE_FIELDS + PEOPLE_FIELDS
YEAR_FIELDS = ("year_min", "year_max")
EXTRA_FIELDS = ("unknown_titles", "neutral_titles", "neutral_people")
"""Not scored per field: titles not in the catalog, and mentions that are neither liked,
disliked nor seen (asked about, described): allowed but not required in the mention F1."""
INTENTS = ("prefs", "ask", "react", "chat")
INTENT_OF = {"give_preferences": "prefs", "ask_recommendations": "ask", "react": "react",
             "chitchat": "chat", "other": "chat"}
SOURCES = ("redial-dev", "everyday")
MODES = ("auto", "observe", "send")


# ---- the set ----------------------------------------------------------------------------------
SPLITS = ("all", "dev", "test")
DEV_EXTRA = Path("tests/data/understanding_dev_extra.jsonl")
"""Fresh development messages (every one marked `"split": "dev"`), read with the set by default."""


def split_of(row_id: str) -> str:
    """'dev' or 'test': a fixed half by id hash. The reader's rules were tuned by reading the
    dev half's errors only; the test half is the held-out number."""
    return "dev" if int(hashlib.sha256(row_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def dialogue_of(row_id: str) -> str:
    """The cluster a row is resampled with: its ReDial dialogue ('rd-858-12' -> '858'), or the
    row itself (everyday lines stand alone)."""
    parts = row_id.split("-")
    return parts[1] if parts[0].startswith("rd") and len(parts) == 3 else row_id


def row_split(row: dict[str, Any]) -> str:
    """A row's split: its explicit `split` field ("dev" or "test") wins over the id hash."""
    explicit = row.get("split")
    return explicit if explicit in ("dev", "test") else split_of(row["id"])


def load_set(path: Path | str) -> list[dict[str, Any]]:
    """Read the labelled JSONL set.

    Raises:
        DataError: when the file is missing, a line is not JSON or lacks a required key.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"missing understanding set {path}",
                        "pass --set tests/data/understanding_set.jsonl")
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n} is not valid JSON: {exc}",
                                "fix the line or restore the file from git") from exc
            missing = [k for k in ("id", "source", "tags", "context", "text", "gold")
                       if k not in row]
            if missing:
                raise DataError(f"{path}:{n} lacks {', '.join(missing)}",
                                "every line needs id, source, tags, context, text and gold")
            rows.append(row)
    return rows


def catalog_people(catalog: Catalog) -> set[str]:
    """Every director, writer and actor name in the catalog."""
    return {n for item in catalog.items.values() for names in item.people.values() for n in names}


def check_set(rows: list[dict[str, Any]], catalog: Catalog) -> list[str]:
    """Problems with the set's format or with names the catalog does not hold (empty: fine)."""
    titles = {item.display_title for item in catalog.items.values()}
    genres, people = set(catalog.genres()), catalog_people(catalog)
    problems: list[str] = []
    ids = Counter(r.get("id") for r in rows)
    problems += [f"duplicate id {i}" for i, n in ids.items() if n > 1]
    for r in rows:
        rid, gold = r.get("id"), r.get("gold") or {}
        bad = problems.append
        if r.get("source") not in SOURCES:
            bad(f"{rid}: source {r.get('source')!r} not in {SOURCES}")
        if not isinstance(r.get("text"), str) or not r["text"].strip():
            bad(f"{rid}: empty text")
        if not (isinstance(r.get("tags"), list) and all(isinstance(t, str) for t in r["tags"])):
            bad(f"{rid}: tags must be a list of strings")
        for turn in r.get("context") or []:
            if turn.get("role") not in ("assistant", "user") or not isinstance(turn.get("text"),
                                                                                str):
                bad(f"{rid}: context turn needs role assistant|user and text")
            bad_cards = [c for c in turn.get("cards") or [] if c not in titles]
            if bad_cards:
                bad(f"{rid}: cards not in the catalog: {bad_cards}")
        if "split" in r and r["split"] not in ("dev", "test"):
            bad(f"{rid}: split {r['split']!r} is not dev or test")
        if gold.get("intent") not in INTENTS:
            bad(f"{rid}: intent {gold.get('intent')!r} not in {INTENTS}")
        unknown_keys = set(gold) - {"intent", *FIELDS, *YEAR_FIELDS, *EXTRA_FIELDS}
        if unknown_keys:
            bad(f"{rid}: unknown gold keys {sorted(unknown_keys)}")
        for key, allowed in ((TITLE_FIELDS + ("neutral_titles",), titles),
                             (GENRE_FIELDS, genres),
                             (PEOPLE_FIELDS + ("neutral_people",), people)):
            for k in key:
                values = gold.get(k, [])
                if not isinstance(values, list):
                    bad(f"{rid}: {k} must be a list")
                    continue
                problems.extend(f"{rid}: {k} {v!r} is not in the catalog"
                                for v in values if v not in allowed)
        problems.extend(f"{rid}: unknown_titles {v!r} IS in the catalog (link it instead)"
                        for v in gold.get("unknown_titles", []) if v in titles)
        for k in YEAR_FIELDS:
            if gold.get(k) is not None and not isinstance(gold[k], int):
                bad(f"{rid}: {k} must be an integer or null")
        if (isinstance(gold.get("year_min"), int) and isinstance(gold.get("year_max"), int)
                and gold["year_min"] > gold["year_max"]):
            bad(f"{rid}: year_min > year_max")
    return problems


def sample_redial_turns(path: Path | str, n: int = 132, seed: int = 21,
                        per_dialogue: int = 3) -> list[tuple[str, str, str]]:
    """The seeded sample of ReDial seeker turns the set was drawn from: (id, previous turn, turn).

    The longest sample of each dialogue holds its whole context; dialogues are shuffled with
    `random.Random(seed)` and up to `per_dialogue` non-empty seeker turns (the last context
    turn is the seeker's) are taken from each until `n` turns are reached.
    """
    best: dict[str, dict[str, Any]] = {}
    with Path(path).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                d = str(row["dialog_id"])
                if d not in best or len(row["context"]) > len(best[d]["context"]):
                    best[d] = row
    ids = sorted(best)
    rng = random.Random(seed)
    rng.shuffle(ids)
    out: list[tuple[str, str, str]] = []
    for d in ids:
        ctx = best[d]["context"]
        last = len(ctx) - 1
        seeker = [i for i, t in enumerate(ctx) if (last - i) % 2 == 0 and t.strip()]
        for i in sorted(rng.sample(seeker, min(per_dialogue, len(seeker)))):
            out.append((f"rd-{d}-{i}", ctx[i - 1] if i > 0 else "", ctx[i]))
        if len(out) >= n:
            break
    return out


# ---- reading one message ----------------------------------------------------------------------
class CountingBackend:
    """Wraps a backend and counts its chat calls (the LLM calls spent reading a message)."""

    def __init__(self, inner: LLMBackend) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", "backend")
        self.calls = 0

    def chat(self, messages: list[Message], **kw: Any) -> Completion:
        """Delegate one call, counting it."""
        self.calls += 1
        return self.inner.chat(messages, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Prediction:
    """What the agent's profile gained from one message."""

    values: dict[str, list[str]] = field(default_factory=dict)
    year_min: int | None = None
    year_max: int | None = None
    intent: str | None = None
    unknown: list[str] = field(default_factory=list)
    seconds: float = 0.0
    wall_seconds: float = 0.0
    llm_calls: int = 0
    error: str | None = None


def context_text(turn: dict[str, Any]) -> str:
    """An assistant turn as text: its words, then its cards as a numbered list."""
    text = turn.get("text", "")
    cards = [c for c in turn.get("cards") or [] if c not in text]
    lines = [f"{i}. {c}" for i, c in enumerate(cards, 1)]
    return "\n".join([text, *lines]) if lines else text


def profile_view(profile: UserProfile, catalog: Catalog) -> dict[str, set[str]]:
    """The scored parts of a profile as names: titles, genres, people."""
    def title(item_id: str) -> str:
        item = catalog.items.get(item_id)
        return item.display_title if item else item_id

    def entities(values: Iterable[str], prefix: str) -> set[str]:
        return {e.split(":", 1)[1] for e in values if e.startswith(prefix)}

    fb = profile.feedback
    return {
        "liked_titles": {title(i.item_id) for i in profile.liked_items}
        | {title(k) for k, v in fb.items() if v == "liked"},
        "disliked_titles": {title(i.item_id) for i in profile.disliked_items}
        | {title(k) for k, v in fb.items() if v == "disliked"},
        "seen_titles": {title(k) for k, v in fb.items() if v == "seen"},
        "liked_genres": entities(profile.liked_entities, "genre:"),
        "disliked_genres": entities(profile.disliked_entities, "genre:"),
        "people": entities(profile.liked_entities, "person:"),
        "disliked_people": entities(profile.disliked_entities, "person:"),
    }


def diff_profiles(before: UserProfile, after: UserProfile, catalog: Catalog) -> Prediction:
    """What `after` holds that `before` did not (new values; changed year bounds)."""
    b, a = profile_view(before, catalog), profile_view(after, catalog)
    pred = Prediction(values={k: sorted(a[k] - b[k]) for k in FIELDS})
    for k in YEAR_FIELDS:
        new = getattr(after.constraints, k, None)
        if new is not None and new != getattr(before.constraints, k, None):
            setattr(pred, k, int(new))
    pred.unknown = [u for u in after.unknown_mentions if u not in before.unknown_mentions]
    return pred


def _session_intent(session: Session) -> str | None:
    raw = getattr(session, "last_intent", None) or getattr(session.state, "last_intent", None)
    return INTENT_OF.get(str(raw), "chat") if raw is not None else None


def _prime_for_send(session: Session, context: list[dict[str, Any]]) -> None:
    """Context without `observe`: what a live chat with the agent would have left behind.

    The agent's own cards are marked shown; an assistant turn without cards is the last
    question (the only context `send` reads); user turns are sent.
    """
    for turn in context:
        if turn["role"] == "user":
            session.send(turn["text"])
        elif turn.get("cards"):
            linker = session.agent.linker
            ids = [i for c in turn["cards"] if (i := linker.link_title(c))]
            session.profile.shown_items.extend(i for i in ids
                                               if i not in session.profile.shown_items)
            session.state.last_question = None
        else:
            session.state.last_question = turn["text"]


def read_one(agent: Agent, row: dict[str, Any], mode: str,
             counter: CountingBackend | None = None) -> Prediction:
    """One message in a fresh session: feed the context, then the message; diff the profile."""
    session = agent.session(user_id=f"understanding-{row['id']}")
    if mode == "observe":
        for turn in row.get("context") or []:
            session.observe(turn["role"], context_text(turn))
    else:
        _prime_for_send(session, row.get("context") or [])
    before = session.profile.model_copy(deep=True)
    calls0 = counter.calls if counter else 0
    spied: dict[str, str] = {}
    start = time.perf_counter()
    seconds: float | None = None
    if mode == "observe":
        session.observe("user", row["text"])
    else:
        original = session._understand  # the old send() kept the intent only in a local

        def spy(*args: Any, **kw: Any) -> Any:
            result = original(*args, **kw)
            spied["intent"] = result[0]
            return result

        session._understand = spy  # type: ignore[method-assign]
        reply = session.send(row["text"])
        seconds = sum(reply.timings.get(k, 0.0) for k in ("understanding", "linking"))
    wall = time.perf_counter() - start
    pred = diff_profiles(before, session.profile, agent.catalog)
    pred.intent = (INTENT_OF.get(spied["intent"], "chat") if "intent" in spied
                   else _session_intent(session))
    pred.wall_seconds = wall
    pred.seconds = wall if seconds is None else seconds
    pred.llm_calls = (counter.calls - calls0) if counter else 0
    return pred


# ---- scoring ----------------------------------------------------------------------------------
def prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    """Precision, recall and F1 from counts (None where undefined: nothing predicted/expected)."""
    p = tp / (tp + fp) if tp + fp else None
    r = tp / (tp + fn) if tp + fn else None
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
    return {"precision": p, "recall": r, "f1": f1, "tp": tp, "fp": fp, "fn": fn}


def _mentions(values: dict[str, Any], fields: Iterable[str], kind: str) -> set[tuple[str, str]]:
    return {(kind, v) for f in fields for v in values.get(f) or []}


def score(rows: list[dict[str, Any]], preds: list[Prediction]) -> dict[str, Any]:
    """Micro-averaged precision/recall/F1 per field, mention F1, invented-title rate (and the
    share of chit-chat with an "unknown title"), mood -> genre recall, intent accuracy, latency
    and LLM calls."""
    counts = {k: [0, 0, 0] for k in FIELDS + YEAR_FIELDS + ("mentions",)}
    mood_hit = mood_total = 0
    chit_total, invented, unknown_chit = 0, [], []
    intent_ok, confusion = 0, {g: Counter() for g in INTENTS}
    f1_num: list[float] = []
    f1_den: list[float] = []
    for row, pred in zip(rows, preds, strict=True):
        gold = row["gold"]
        for k in FIELDS:
            g, p = set(gold.get(k) or []), set(pred.values.get(k) or [])
            c = counts[k]
            c[0], c[1], c[2] = c[0] + len(g & p), c[1] + len(p - g), c[2] + len(g - p)
        for k in YEAR_FIELDS:
            g, p, c = gold.get(k), getattr(pred, k), counts[k]
            c[0] += int(g is not None and p == g)
            c[1] += int(p is not None and p != g)
            c[2] += int(g is not None and p != g)
        gm = _mentions(gold, TITLE_FIELDS, "t") | _mentions(gold, PEOPLE_FIELDS, "p")
        allowed = (_mentions(gold, ("neutral_titles",), "t")
                   | _mentions(gold, ("neutral_people",), "p"))
        pm = (_mentions(pred.values, TITLE_FIELDS, "t")
              | _mentions(pred.values, PEOPLE_FIELDS, "p"))
        produced = bool(pm)
        pm -= allowed - gm
        c = counts["mentions"]
        c[0], c[1], c[2] = c[0] + len(gm & pm), c[1] + len(pm - gm), c[2] + len(gm - pm)
        f1_num.append(2 * len(gm & pm))
        f1_den.append(2 * len(gm & pm) + len(pm - gm) + len(gm - pm))
        if "chitchat" in row["tags"]:
            chit_total += 1
            if produced:
                invented.append(row["id"])
            if pred.unknown:
                unknown_chit.append(row["id"])
        if row["source"] == "everyday" and "mood" in row["tags"]:
            for k in GENRE_FIELDS:
                g = set(gold.get(k) or [])
                mood_total += len(g)
                mood_hit += len(g & set(pred.values.get(k) or []))
        ok = pred.intent == gold["intent"]
        intent_ok += int(ok)
        confusion[gold["intent"]][pred.intent or "none"] += 1
    seconds = [p.seconds for p in preds]
    return {
        "n": len(rows),
        "fields": {k: prf(*counts[k]) for k in FIELDS + YEAR_FIELDS},
        "mentions": prf(*counts["mentions"]),
        "mentions_f1_ci": bootstrap(f1_num, f1_den, [dialogue_of(r["id"]) for r in rows]).as_dict(),
        "invented_title_rate_chitchat": len(invented) / chit_total if chit_total else None,
        "n_chitchat": chit_total, "invented_ids": invented,
        "unknown_rate_chitchat": len(unknown_chit) / chit_total if chit_total else None,
        "unknown_ids_chitchat": unknown_chit,
        "mood_genre_recall": mood_hit / mood_total if mood_total else None,
        "n_mood_genres": mood_total,
        "intent_accuracy": intent_ok / len(rows) if rows else None,
        "intent_confusion": {g: dict(c) for g, c in confusion.items() if c},
        "seconds_p50": float(np.percentile(seconds, 50)) if seconds else None,
        "seconds_p95": float(np.percentile(seconds, 95)) if seconds else None,
        "wall_p50": float(np.percentile([p.wall_seconds for p in preds], 50)) if preds else None,
        "llm_calls": sum(p.llm_calls for p in preds),
        "llm_calls_per_message": (sum(p.llm_calls for p in preds) / len(preds)) if preds else None,
        "errors": sum(1 for p in preds if p.error),
    }


# ---- running ----------------------------------------------------------------------------------
def build_agent(settings: Any, backend: LLMBackend | None, catalog: Catalog,
                tools: list[str] | None, sessions_dir: Path) -> tuple[Agent, CountingBackend]:
    """An agent on the catalog whose backend counts its calls (templated reply text)."""
    from agent.backends.factory import make_backend
    from agent.core import Agent

    settings = settings.model_copy(update={"sessions_db": sessions_dir / "s.sqlite3",
                                           "justify_with_llm": False, "catalog": CATALOG})
    inner = backend if backend is not None else make_backend(settings,
                                                             settings.resolved_cache_dir())
    counter = CountingBackend(inner)
    agent = Agent.from_settings(settings, backend=counter, catalog=catalog,  # type: ignore[arg-type]
                                tool_names=tools)
    return agent, counter


def resolve_mode(mode: str) -> str:
    """`auto` is `observe` where the Session has it, else `send`."""
    if mode != "auto":
        return mode
    from agent.session import Session

    return "observe" if hasattr(Session, "observe") else "send"


def run_understanding(set_path: Path | str, settings: Any, *, backend: LLMBackend | None = None,
                      catalog: Catalog | None = None, mode: str = "auto",
                      limit: int | None = None, tools: list[str] | None = None,
                      split: str = "all", extra: Iterable[Path | str] = (),
                      progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Score the agent's reading of every message in the set (and the `extra` files read
    after it); JSON-ready results."""
    from catalog.loading import load_catalog

    every = [r for path in (set_path, *extra) for r in load_set(path)]
    rows = [r for r in every if split in ("all", row_split(r))][:limit]
    catalog = catalog or load_catalog(CATALOG, settings.resolved_cache_dir(), settings.data_dir)
    mode = resolve_mode(mode)
    with tempfile.TemporaryDirectory(prefix="convrec-understanding-") as tmp:
        agent, counter = build_agent(settings, backend, catalog, tools, Path(tmp))
        preds: list[Prediction] = []
        for n, row in enumerate(rows, 1):
            try:
                preds.append(read_one(agent, row, mode, counter))
            except Exception as exc:  # one broken message must not end the run; it is counted
                log.exception("message %s failed", row["id"])
                preds.append(Prediction(values={k: [] for k in FIELDS},
                                        error=f"{type(exc).__name__}: {exc}"))
            if progress:
                progress(n, len(rows))
    by_source = {s: score([r for r in rows if r["source"] == s],
                          [p for r, p in zip(rows, preds, strict=True) if r["source"] == s])
                 for s in SOURCES if any(r["source"] == s for r in rows)}
    backend_name = getattr(counter.inner, "name", settings.backend)
    return {
        "config": {"set": str(set_path), "extra": [str(x) for x in extra], "split": split,
                   "catalog": CATALOG, "mode": mode,
                   "limit": limit,
                   "backend": backend_name, "model": settings.model, "tools": tools},
        "overall": score(rows, preds), "by_source": by_source,
        "messages": [{"id": r["id"], "text": r["text"], "gold": r["gold"], "intent": p.intent,
                      **p.values, "year_min": p.year_min, "year_max": p.year_max,
                      "unknown": p.unknown, "seconds": round(p.seconds, 4),
                      "llm_calls": p.llm_calls, "error": p.error}
                     for r, p in zip(rows, preds, strict=True)],
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def understanding_table(results: dict[str, Any]) -> str:
    """A compact text table of the headline numbers (overall and per source)."""
    parts = [("overall", results["overall"]), *results["by_source"].items()]
    head = f"{'field':<18}" + "".join(f"{name:>24}" for name, _ in parts)
    extra = "".join(f" + {x}" for x in results["config"].get("extra") or [])
    lines = [f"understanding set: {results['config']['set']}{extra} (mode {results['config']['mode']}, "
             f"backend {results['config']['backend']})",
             head, f"{'':<18}" + "".join(f"{'P / R / F1':>24}" for _ in parts)]
    for k in (*FIELDS, *YEAR_FIELDS, "mentions"):
        cells = []
        for _, s in parts:
            m = s["mentions"] if k == "mentions" else s["fields"][k]
            cells.append(f"{_fmt(m['precision'])}/{_fmt(m['recall'])}/{_fmt(m['f1'])}")
        lines.append(f"{'title+person mentions' if k == 'mentions' else k:<18}"
                     + "".join(f"{c:>24}" for c in cells))
    for label, key in (("invented (chit-chat)", "invented_title_rate_chitchat"),
                       ("mood->genre recall", "mood_genre_recall"),
                       ("intent accuracy", "intent_accuracy"),
                       ("reading p50 s", "seconds_p50"), ("LLM calls/msg", "llm_calls_per_message")):
        lines.append(f"{label:<18}" + "".join(f"{_fmt(s[key]):>24}" for _, s in parts))
    cis = [s["mentions_f1_ci"] for _, s in parts]
    cells = ["[{:.3f}, {:.3f}]".format(ci["lo"], ci["hi"]) if ci["n"] else "-" for ci in cis]
    lines.append(f"{'mention F1 95% CI':<18}" + "".join(f"{c:>24}" for c in cells))
    lines.append(f"{'messages':<18}" + "".join(f"{s['n']:>24}" for _, s in parts))
    o = results["overall"]
    lines.append(f"LLM calls: {o['llm_calls']}; errors: {o['errors']}; chit-chat with a title "
                 f"or person: {', '.join(o['invented_ids']) or 'none'}; chit-chat answered "
                 f"'I don't know ...': {len(o['unknown_ids_chitchat'])}/{o['n_chitchat']}")
    return "\n".join(lines)


def _extra_files(args: argparse.Namespace) -> list[Path]:
    """--extra unless --no-extra; the default file only where it exists (run from the repo)."""
    extra: Path = args.extra
    if args.no_extra or (extra == DEV_EXTRA and not extra.is_file()):
        return []
    return [extra]


def cmd_understanding(args: argparse.Namespace) -> int:
    """Run `convrec eval understanding`; prints the table, writes JSON with --json."""
    from agent.settings_flags import settings_from_args
    from evaluation.cli import _backend_for

    if getattr(args, "catalog", None) not in (None, CATALOG):
        raise UserFacingError(f"the understanding set is labelled on {CATALOG}",
                              "drop --catalog (or pass --catalog movielens-redial)")
    settings = settings_from_args(args)
    from catalog.loading import load_catalog

    catalog = load_catalog(CATALOG, settings.resolved_cache_dir(), settings.data_dir)
    show = not getattr(args, "no_progress", False)

    def progress(n: int, total: int) -> None:
        if show and (n % 20 == 0 or n == total):
            print(f"  {n}/{total} messages", flush=True)

    results = run_understanding(args.set_path, settings, backend=_backend_for(settings, catalog),
                                catalog=catalog, mode=args.mode, limit=args.limit,
                                tools=args.tools, progress=progress, split=args.split,
                                extra=_extra_files(args))
    print(understanding_table(results))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=1, ensure_ascii=False),
                                 encoding="utf-8")
        print(f"results: {args.json_out}")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The `understanding` sub-command's own flags (the shared settings flags come from cli)."""
    p.add_argument("--set", type=Path, dest="set_path",
                   default=Path("tests/data/understanding_set.jsonl"),
                   help="labelled JSONL (default tests/data/understanding_set.jsonl)")
    p.add_argument("--extra", type=Path, default=DEV_EXTRA,
                   help="more labelled JSONL read after --set (default "
                        f"{DEV_EXTRA}: fresh messages, all in the dev split)")
    p.add_argument("--no-extra", action="store_true",
                   help="score --set alone (the old dev split: --split dev --no-extra)")
    p.add_argument("--mode", choices=MODES, default="auto",
                   help="feed messages with Session.observe, or send (auto: observe if present)")
    p.add_argument("--limit", type=int, default=None, help="score only the first N messages")
    p.add_argument("--split", choices=SPLITS, default="all",
                   help="dev: the half the reader was tuned on; test: the held-out half")
    p.add_argument("--tools", type=lambda s: [x.strip() for x in s.split(",") if x.strip()],
                   default=["kg_expansion"],
                   help="tools the agent opens (reading does not use them; default kg_expansion)")
    p.add_argument("--json", type=Path, dest="json_out", help="write the results here")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(handler=cmd_understanding)


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: `python -m evaluation.understanding_eval --set ...`."""
    from evaluation.cli import _own_common

    parser = argparse.ArgumentParser(prog="convrec-eval-understanding", description=__doc__)
    _own_common(parser)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return cmd_understanding(args)
    except UserFacingError as exc:
        print(f"convrec eval understanding: error: {exc.one_line()}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
