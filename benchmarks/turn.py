"""`convrec bench turn`: latency by stage and turn kind of a fixed conversation on the real backend."""

from __future__ import annotations

import json
import platform
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.stats import summary
from evaluation.faithfulness import faithfulness, faithfulness_markdown

CONVERSATION = [
    "Hi, I'm looking for a movie to watch tonight.",
    "I really liked Toy Story.",
    "Something from the 1990s, please.",
    "I loved Alien and Star Wars, nothing with horror.",
    "Show me more.",
]


class _Recording:
    """Forwards to a backend and keeps each call's `Completion.extra` (prompt tokens evaluated
    and reused, llama.cpp's own timings), in call order."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        self.extras: list[dict[str, Any]] = []
        self.name = backend.name

    def chat(self, messages: Any, **kwargs: Any) -> Any:
        completion = self._backend.chat(messages, **kwargs)
        self.extras.append(dict(completion.extra))
        return completion

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._backend, attr)


def run_turn_bench(settings: Any, repeats: int = 3, conversation: list[str] | None = None,
                   progress: bool = True, backend: Any = None) -> dict[str, Any]:
    """Run the conversation `repeats` times in fresh sessions and collect timings.

    `backend` replaces the one the settings name (tests pass a fake).
    """
    from tqdm import tqdm

    from agent import Agent

    stages: dict[str, float] = {}
    start = time.perf_counter()

    def report(stage: str, frac: float) -> None:
        stages[stage] = time.perf_counter() - start

    agent = Agent.from_settings(settings, progress=report, show_progress=progress,
                                backend=backend)
    load = {"catalog_s": stages.get("tools", 0.0),
            "tools_s": stages.get("model", 0.0) - stages.get("tools", 0.0),
            "model_s": stages.get("ready", 0.0) - stages.get("model", 0.0),
            "total_s": time.perf_counter() - start}
    recorder = _Recording(agent.backend)
    agent.backend = recorder
    turns = conversation or CONVERSATION
    by_kind: dict[str, list[float]] = defaultdict(list)
    by_stage: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    first_token: dict[str, list[float]] = defaultdict(list)
    calls: dict[str, list[dict[str, float]]] = defaultdict(list)
    invalid_json = n_json = 0
    first_llm: list[float] = []
    rec_replies: list[Any] = []
    with tqdm(total=repeats * len(turns), desc="bench turns", disable=not progress) as bar:
        for r in range(repeats):
            session = agent.session(f"bench-{r}")
            for text in turns:
                t0 = time.perf_counter()
                first: list[float] = []

                def on_text(piece: str, t0: float = t0, first: list[float] = first) -> None:
                    if not first and piece.strip():
                        first.append(time.perf_counter() - t0)

                drafted: list[float] = []

                def on_card(rec: Any, t0: float = t0, drafted: list[float] = drafted) -> None:
                    if not drafted and rec.draft_status == "streaming" and \
                            rec.justification.strip():
                        drafted.append(time.perf_counter() - t0)

                n_before = len(recorder.extras)
                reply = session.send(text, on_text=on_text, on_card=on_card)
                extras = recorder.extras[n_before:]
                kind = reply.kind
                if kind == "recommendations":
                    rec_replies.append(reply)
                    if drafted:  # measured from the end of understanding (timings say when)
                        first_llm.append(drafted[0] - reply.timings.get("understanding", 0.0))
                by_kind[kind].append(reply.timings["total"])
                for stage, secs in reply.timings.items():
                    by_stage[kind][stage].append(secs)
                if first:
                    first_token[kind].append(first[0])
                aligned = len(extras) == len(reply.llm_calls)
                for n, c in enumerate(reply.llm_calls):
                    extra = extras[n] if aligned else {}
                    calls[c.stage].append({
                        "prompt_tokens": c.prompt_tokens,
                        "completion_tokens": c.completion_tokens, "seconds": c.seconds,
                        "evaluated": float(extra.get("prompt_eval_tokens", c.prompt_tokens)),
                        "reused": float(extra.get("reused_prompt_tokens", 0)),
                        "prompt_eval_s": float(extra.get("prompt_eval_seconds", 0.0))})
                    if c.valid_json is not None:
                        n_json += 1
                        invalid_json += not c.valid_json
                bar.update(1)
    return {
        "machine": {"platform": platform.platform(), "processor": platform.processor()},
        "settings": {"model": settings.model, "backend": settings.backend,
                     "n_gpu_layers": settings.n_gpu_layers, "n_threads": settings.n_threads,
                     "catalog": settings.catalog},
        "repeats": repeats,
        "load": load,
        "turn_latency": {k: summary(v) for k, v in by_kind.items()},
        "stage_latency": {k: {s: summary(v) for s, v in st.items()} for k, st in by_stage.items()},
        "first_token": {k: summary(v) for k, v in first_token.items()},
        "llm_calls": {stage: {"n": len(v),
                              "prompt_tokens_mean": sum(c["prompt_tokens"] for c in v) / len(v),
                              "completion_tokens_mean":
                                  sum(c["completion_tokens"] for c in v) / len(v),
                              "evaluated_tokens_mean": sum(c["evaluated"] for c in v) / len(v),
                              "reused_tokens_mean": sum(c["reused"] for c in v) / len(v),
                              "prompt_eval_s_p50":
                                  summary([c["prompt_eval_s"] for c in v])["p50"],
                              **{f"seconds_{k}": val for k, val in
                                 summary([c["seconds"] for c in v]).items() if k != "n"}}
                      for stage, v in calls.items()},
        "invalid_json_rate": invalid_json / n_json if n_json else 0.0,
        "first_llm_token": summary(first_llm) if first_llm else None,
        "warm_prefix": getattr(recorder, "warm_stats", None),
        "faithfulness": faithfulness(rec_replies),
    }


def write_report(result: dict[str, Any], folder: Path, name: str) -> Path:
    """Write JSON and a Markdown table of a benchmark result; return the Markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(result, indent=2))
    lines = [f"# {name}", "", f"settings: `{json.dumps(result.get('settings', {}))}`", ""]
    if "turn_latency" in result:
        lines += ["| turn kind | n | p50 s | p95 s |", "| --- | --- | --- | --- |"]
        for kind, s in result["turn_latency"].items():
            lines.append(f"| {kind} | {s['n']} | {s['p50']:.2f} | {s['p95']:.2f} |")
        lines += ["", "| turn kind | stage | p50 s | p95 s |", "| --- | --- | --- | --- |"]
        for kind, st in result["stage_latency"].items():
            for stage, s in st.items():
                lines.append(f"| {kind} | {stage} | {s['p50']:.3f} | {s['p95']:.3f} |")
        lines += ["", "| LLM call | n | prompt tok | of which evaluated | reused from the KV "
                  "cache | prompt eval p50 s | generated tok | p50 s |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- |"]
        for stage, c in result["llm_calls"].items():
            lines.append(f"| {stage} | {c['n']} | {c['prompt_tokens_mean']:.0f} | "
                         f"{c.get('evaluated_tokens_mean', 0):.0f} | "
                         f"{c.get('reused_tokens_mean', 0):.0f} | "
                         f"{c.get('prompt_eval_s_p50', 0):.2f} | "
                         f"{c['completion_tokens_mean']:.0f} | {c['seconds_p50']:.2f} |")
        first = result.get("first_llm_token")
        lines += ["", "first visible LLM token of a recommendation turn, after understanding: "
                  + (f"p50 {first['p50']:.2f} s, p95 {first['p95']:.2f} s (n={first['n']})"
                     if first else "none streamed")]
        if result.get("warm_prefix"):
            w = result["warm_prefix"]
            lines += [f"justification prefix warmed in the background at start: "
                      f"{w['prompt_eval_tokens']} tokens in {w['seconds']:.2f} s"]
        if result.get("faithfulness"):
            lines += ["", faithfulness_markdown(result["faithfulness"], "## Justifications")]
        lines += ["", f"first token: `{json.dumps(result['first_token'])}`",
                  f"load: `{json.dumps(result['load'])}`",
                  f"invalid JSON rate: {result['invalid_json_rate']:.3f}"]
    path = folder / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path
