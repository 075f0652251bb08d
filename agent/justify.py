"""Justifications: each item's evidence rendered as facts, rewritten by the LLM, grounded."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from agent.backends.base import BackendError, Completion, LLMBackend
from agent.grounding import GroundingResult, check_grounding
from catalog.models import Item
from tools.base import Evidence

log = logging.getLogger(__name__)

_PATH = re.compile(r"^(?P<seed>.+?) -(?P<rel>[\w ]+)-> (?P<ent>.+?) <-(?P<rel2>[\w ]+)- (?P<item>.+)$")
_ENTITY_PATH = re.compile(r"^(?P<ent>.+?) <-(?P<rel>[\w ]+)- (?P<item>.+)$")

SYSTEM = (
    "You rewrite facts about a recommended movie as ONE short friendly sentence to the user. "
    "Use only the facts given. Never add names, titles, years, numbers or claims that are not "
    "in the facts.\n"
    "Example facts: shares the director Jane Doe with Film X, which you liked\n"
    "Example sentence: Since you liked Film X, you may enjoy this one by the same director, "
    "Jane Doe."
)


def fact_line(evidence: Evidence) -> str:
    """One plain-language fact from a piece of evidence."""
    text = evidence.text.strip()
    if evidence.kind == "kg_path":
        m = _PATH.match(text)
        if m:
            rel = m.group("rel").replace("_", " ")
            ent = m.group("ent")
            if ent.startswith("(") and ent.endswith(")"):
                return f"shares {ent.strip('()')} with {m.group('seed')}"
            return f"shares the {rel} {ent} with {m.group('seed')}"
        m = _ENTITY_PATH.match(text)
        if m:
            return f"its {m.group('rel').replace('_', ' ')} is {m.group('ent')}"
    if evidence.kind == "snippet":
        return f"its description says: \"{text}\""
    return text


def facts_for(evidence: list[Evidence], limit: int = 2) -> list[str]:
    """The item's strongest facts, one per tool first, deduplicated."""
    facts: list[str] = []
    tools_seen: set[str] = set()
    for ev in sorted(evidence, key=lambda e: e.tool in tools_seen):
        line = fact_line(ev)
        if line and line not in facts and ev.tool not in tools_seen:
            facts.append(line)
            tools_seen.add(ev.tool)
        if len(facts) >= limit:
            break
    return facts


def template_justification(item: Item, evidence: list[Evidence]) -> str:
    """The deterministic fallback: the facts themselves, as one sentence."""
    facts = facts_for(evidence)
    if not facts:
        return "It fits what you asked for."
    return " ".join(_sentence(f) for f in facts)


def _sentence(fact: str) -> str:
    """A fact as a sentence about the item ("shares ..." -> "It shares ...")."""
    fact = fact.strip().rstrip(".")
    if fact.startswith(("shares ", "is ")):
        fact = "It " + fact
    return fact[:1].upper() + fact[1:] + "."


def allowed_texts(item: Item, evidence: list[Evidence]) -> list[str]:
    """Everything a justification may draw on: the evidence and the item's own facts."""
    own = [item.title, item.display_title, str(item.year or ""), " ".join(item.genres)]
    return own + [ev.text for ev in evidence] + facts_for(evidence, limit=10)


@dataclass
class Justification:
    """A justification with its provenance."""

    text: str
    source: str  # "llm" | "template"
    grounding: GroundingResult
    completion: Completion | None = None
    rejected: list[str] = field(default_factory=list)  # why the LLM's text was refused


def justify(backend: LLMBackend | None, item: Item, evidence: list[Evidence],
            max_tokens: int = 48) -> Justification:
    """Write one grounded justification; fall back to the template when the LLM's is not."""
    allowed = allowed_texts(item, evidence)
    template = template_justification(item, evidence)
    facts = facts_for(evidence)
    if backend is None or not facts:
        return Justification(template, "template", check_grounding(template, allowed))
    prompt = f"Movie: {item.display_title}\nFacts:\n" + "\n".join(f"- {f}" for f in facts)
    try:
        completion = backend.chat(
            [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}],
            max_tokens=max_tokens, stop=["\n"], temperature=0.0)
    except BackendError as exc:
        log.warning("justification call failed: %s", exc)
        return Justification(template, "template", check_grounding(template, allowed))
    text = " ".join(completion.text.split()).strip().strip('"')
    grounding = check_grounding(text, allowed)
    if text and completion.finish_reason != "length" and grounding.ok:
        return Justification(text, "llm", grounding, completion)
    log.info("justification rejected (%s): %r", grounding.violations, text)
    return Justification(template, "template", check_grounding(template, allowed), completion,
                         rejected=grounding.violations or ["empty or cut at max_tokens"])
