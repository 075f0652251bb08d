"""Justifications: evidence as facts, a sentence drafted by the LLM, checked claim by claim."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agent.backends.base import BackendError, Completion, LLMBackend, Message
from agent.claim_words import RELATION_GROUP
from agent.claims import ClaimCheck, check_claims
from agent.facts import Facts, cf_stat, facts_of, norm, path_parts, split_title
from catalog.models import Catalog, Item
from tools.base import Evidence

log = logging.getLogger(__name__)

DraftStatus = Literal["passed", "repaired", "replaced", "none"]

SYSTEM = (
    "You tell a user in ONE short sentence why a movie was picked for them. Films named in "
    "the facts other than the movie are films the user said they liked. Say one or two of "
    "the facts in plain, friendly words. Copy every title, name and number exactly as the "
    "facts write it, each with the words it belongs to. Add nothing the facts do not say: "
    "no other names, years or numbers, no praise or opinions (acclaimed, popular, classic, "
    "great, fun), no story details, no 'not'. Output only the sentence."
)
EXAMPLES: list[tuple[str, str]] = [
    ("Movie: Harbor Lights (1994)\nFacts:\n"
     "- Harbor Lights (1994) and Night Train (1988) were both directed by Jane Doe.\n"
     "- Of the 310 people who rated Night Train 4+, 42% also rated Harbor Lights 4+.",
     "Since you liked Night Train, Harbor Lights comes from the same director, Jane Doe, "
     "and 42% of the 310 people who rated Night Train 4+ also rated it 4+."),
    ("Movie: Cold Summer (2003)\nFacts:\n"
     "- The description of Cold Summer (2003) says: \"A retired sailor teaches his "
     "granddaughter to fish.\"",
     "Cold Summer is about a retired sailor who teaches his granddaughter to fish."),
    ("Movie: Red Canyon (1971)\nFacts:\n"
     "- Red Canyon (1971) and Dust Road (1975) are both tagged \"desert\".",
     "Like Dust Road, which you liked, Red Canyon is tagged \"desert\"."),
]
BASELINE_SYSTEM = (
    "You rewrite facts about a recommended movie as ONE short friendly sentence to the user. "
    "Use only the facts given. Never add names, titles, years, numbers or claims that are not "
    "in the facts.\n"
    "Example facts: shares the director Jane Doe with Film X, which you liked\n"
    "Example sentence: Since you liked Film X, you may enjoy this one by the same director, "
    "Jane Doe."
)


@dataclass(frozen=True)
class PromptVariant:
    """One way of asking for a draft (compared by `scripts/justification_audit.py`)."""

    name: str
    system: str
    examples: tuple[tuple[str, str], ...] = ()
    grammar: bool = False
    """Constrain decoding so that every capitalised name and every number is copied from
    the evidence (a JSON string whose pattern enumerates them)."""


VARIANTS: dict[str, PromptVariant] = {
    "baseline": PromptVariant("baseline", BASELINE_SYSTEM),
    "copy": PromptVariant("copy", SYSTEM, tuple(EXAMPLES)),
    "copy_grammar": PromptVariant("copy_grammar", SYSTEM, tuple(EXAMPLES), grammar=True),
}
DEFAULT_VARIANT = "copy"
"""Chosen by draft pass rate on the real model (see README, "Justifications")."""

# ---- evidence as facts ------------------------------------------------------------------
_SPECIFICITY = {"sequel": 0, "prequel": 0, "remake": 0, "director": 1, "writer": 2, "actor": 3,
                "cf": 4, "comention": 4, "producer": 5, "production_company": 5, "composer": 5,
                "cinematographer": 5, "plot": 5, "award": 5, "tag": 6, "subject": 6,
                "genre": 7, "decade": 8, "title_word": 8, "popularity": 9}
_BOTH = {"director": "were both directed by {e}", "writer": "were both written by {e}",
         "actor": "both star {e}", "producer": "were both produced by {e}",
         "production_company": "were both made by {e}", "genre": "are both {e} films",
         "tag": 'are both tagged "{e}"', "decade": "are both from the {e}"}
_ONE = {"director": "was directed by {e}", "writer": "was written by {e}", "actor": "stars {e}",
        "producer": "was produced by {e}", "production_company": "was made by {e}",
        "genre": "is a {e} film", "tag": 'is tagged "{e}"', "decade": "is from the {e}"}


_FAMILY = {"cf": "ratings", "comention": "ratings", "plot": "text", "title_word": "text",
           "popularity": "ratings"}
"""Facts of one family (two rating statistics) are said together only when nothing else is."""


def _words(relation: str) -> str:
    return relation.replace("_", " ")


def _rating(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _kg_fact(ev: Evidence) -> tuple[str | None, str]:
    parts = path_parts(ev)
    if parts is None:
        return ev.text.strip() or None, "other"
    nodes, names, relations, directions = parts
    if not all(names):
        return None, "unnamed"  # a path through a nameless entity says nothing
    groups = [RELATION_GROUP.get(r, r) for r in relations]
    item = names[-1]
    if len(nodes) == 3:
        seed, entity = names[0], names[1]
        if groups[0] == groups[1]:
            phrase = _BOTH.get(groups[0], f"share the {_words(relations[1])} {{e}}")
            return f"{item} and {seed} {phrase.format(e=entity)}.", groups[1]
        return (f"{entity} is the {_words(relations[0])} of {seed} and the "
                f"{_words(relations[1])} of {item}.", groups[1])
    if nodes[0].startswith("item:"):
        seed, rel, forward = names[0], relations[0], directions[0]
        if rel in ("sequel", "prequel"):
            first, second = (item, seed) if forward else (seed, item)
            return f"{first} is the {rel} to {second}.", rel
        return f"{item} and {seed} are linked: {_words(rel)}.", groups[0]
    phrase = _ONE.get(groups[0], f"has the {_words(relations[0])} {{e}}")
    return f"{item} {phrase.format(e=names[0])}.", groups[0]


def _snippet_fact(ev: Evidence) -> tuple[str | None, str]:
    data = ev.data or {}
    snippet = str(data.get("snippet") or ev.text).strip()
    title = str(data.get("title") or "")
    if not snippet:
        return None, "plot"
    name, _ = split_title(title) if title else ("", None)
    bare = norm(re.sub(r"\(\d{4}\)\.?$", "", snippet))
    if name and bare and bare in norm(title):
        words = [w for w in data.get("matched_words", []) if w in norm(name).split()]
        if not words:
            return None, "title_word"
        return f"{title} has \"{words[0]}\" in its title, a word from your request.", "title_word"
    if snippet.lower().startswith("genres:"):
        genres = [g.strip() for g in snippet[7:].strip(" .").split(",") if g.strip()]
        return (f"{title or 'It'} is listed under {', '.join(genres)}." if genres else None,
                "genre")
    subject = f"The description of {title}" if title else "Its description"
    return f'{subject} says: "{snippet}"', "plot"


def fact_and_kind(ev: Evidence) -> tuple[str | None, str]:
    """One plain-language fact from a piece of evidence and its kind (None: nothing to say)."""
    if ev.kind == "kg_path":
        return _kg_fact(ev)
    if ev.kind == "cf_neighbour":
        stat = cf_stat(ev)
        if stat is None:
            return ev.text.strip() or None, "cf"
        r = _rating(stat.min_rating)
        return (f"Of the {stat.base} people who rated {stat.seed} {r}+, {stat.percent}% also "
                f"rated {stat.item} {r}+.", "cf")
    if ev.kind == "snippet":
        return _snippet_fact(ev)
    if ev.kind == "comention":
        return ev.text.strip() or None, "comention"
    if ev.kind == "popularity":
        return ev.text.strip().rstrip(".") + ".", "popularity"
    return ev.text.strip() or None, "other"


def fact_line(evidence: Evidence) -> str:
    """One plain-language fact from a piece of evidence ('' when it says nothing)."""
    return fact_and_kind(evidence)[0] or ""


def facts_for(evidence: list[Evidence], limit: int = 2) -> list[str]:
    """The item's most specific facts (a shared director before a shared genre), one per
    family (ratings statistics, KG paths, descriptions) first; paths through nameless entities
    and snippets that only repeat the title are left out."""
    ranked: list[tuple[int, int, str, str]] = []
    for n, ev in enumerate(evidence):
        line, kind = fact_and_kind(ev)
        if line:
            ranked.append((_SPECIFICITY.get(kind, 6), n, line, _FAMILY.get(kind, ev.tool)))
    ranked.sort()
    facts: list[str] = []
    families: set[str] = set()
    for second_pass in (False, True):
        for _, _, line, family in ranked:
            if len(facts) >= limit or line in facts or (family in families and not second_pass):
                continue
            facts.append(line)
            families.add(family)
    return facts[:limit]


def template_justification(item: Item, evidence: list[Evidence]) -> str:
    """The deterministic fallback: the facts themselves."""
    facts = facts_for(evidence)
    return " ".join(facts) if facts else "It fits what you asked for."


def seed_years(catalog: Catalog | None, evidence: list[Evidence]) -> dict[str, int | None]:
    """Years of the liked films that CF statistics name (their data holds only the ids)."""
    if catalog is None:
        return {}
    ids = {str((ev.data or {}).get("seed_id")) for ev in evidence
           if ev.kind in ("cf_neighbour", "comention")}
    return {i: catalog.items[i].year for i in ids if i in catalog.items}


# ---- drafting ---------------------------------------------------------------------------
def prefix_messages(variant: PromptVariant) -> list[Message]:
    """The fixed part of every draft's chat: the system message and the worked examples."""
    messages: list[Message] = [{"role": "system", "content": variant.system}]
    for user, assistant in variant.examples:
        messages += [{"role": "user", "content": user},
                     {"role": "assistant", "content": assistant}]
    return messages


def warm_up(backend: LLMBackend | None, variant: str | PromptVariant = DEFAULT_VARIANT, *,
            background: bool = False) -> threading.Thread | None:
    """Evaluate the drafts' fixed prefix into the backend's KV cache (at agent start), so the
    first recommendation turn evaluates only its card's facts.

    Does nothing for a backend that keeps no cache of its own (HTTP, the scripted fake).
    With `background`, the work runs in a daemon thread (returned) while the user types; a
    call meanwhile waits for it on the backend's lock. Failures are logged, never raised.
    """
    warm = getattr(backend, "warm_prefix", None)
    if warm is None:
        return None
    chosen = VARIANTS[variant] if isinstance(variant, str) else variant
    prefix = prefix_messages(chosen)

    def run() -> None:
        try:
            warm(prefix)
        except BackendError as exc:
            log.warning("justification prefix not warmed: %s", exc)

    if not background:
        run()
        return None
    thread = threading.Thread(target=run, name="convrec-warm-prefix", daemon=True)
    thread.start()
    return thread


def messages_for(variant: PromptVariant, item: Item, facts: list[str]) -> list[Message]:
    """The chat for one draft: system, the variant's examples, then this item's facts."""
    messages = prefix_messages(variant)
    prompt = f"Movie: {item.display_title}\nFacts:\n" + "\n".join(f"- {f}" for f in facts)
    messages.append({"role": "user", "content": prompt})
    return messages


_REGEX_SPECIAL = set(".^$*+?()[]{}|/-")
_UNSAFE = set('\\]^"')


def _literal(text: str) -> str:
    """`text` as a regex matching it literally, specials as one-character classes ([.]):
    llama.cpp's converter copies a backslash escape such as \\. into its grammar, which the
    grammar parser then refuses (and the process aborts)."""
    return "".join(f"[{c}]" if c in _REGEX_SPECIAL else c for c in text)


def draft_schema(facts: Facts) -> dict[str, Any]:
    """A JSON-string schema whose pattern lets capitals and digits in only by copying names and
    numbers from the evidence (titles with and without years, people, entities, counts); it
    ends at a full stop, so the string cannot close after a word or two."""
    atoms: set[str] = set()
    for t in facts.titles.values():
        atoms.add(t.title)
        if t.year:
            atoms.add(f"{t.title} ({t.year})")
    atoms |= set(facts.person_names.values()) | set(facts.entities)
    for s in facts.cf:
        atoms |= {str(s.base), str(s.both), f"{s.percent}%", f"{_rating(s.min_rating)}+"}
    if facts.n_ratings is not None:
        atoms.add(str(facts.n_ratings))
    atoms = {a for a in atoms if a and any(c.isupper() or c.isdigit() for c in a)
             and not set(a) & _UNSAFE} | {"I"}
    alternatives = "|".join(_literal(a) for a in sorted(atoms, key=lambda a: (-len(a), a)))
    return {"type": "string",
            "pattern": f"^([A-Z]|{alternatives})({alternatives}|[a-z ,'!;:-]|[.] )*[.!]$"}


class _JsonStringStream:
    """Pass the characters of a streamed JSON string literal on, without its quotes."""

    def __init__(self, sink: Callable[[str], None]) -> None:
        self.sink, self.started, self.done = sink, False, False

    def __call__(self, piece: str) -> None:
        out = []
        for c in piece:
            if self.done:
                break
            if not self.started:
                self.started = c == '"'
                continue
            if c == '"':
                self.done = True
                break
            out.append(c)
        if out:
            self.sink("".join(out))


def _clean(text: str, grammar: bool) -> str:
    text = text.strip()
    if grammar and text.startswith('"'):
        text = text[1:].split('"', 1)[0]
    return " ".join(text.split()).strip().strip('"')


# ---- repair -----------------------------------------------------------------------------
_CLAUSE_END = re.compile(r",? (?:and|but|while|plus) |; |, (?=\w+ \w+ \w+)")


def repair(text: str, item: Item, evidence: list[Evidence], facts: Facts) -> str | None:
    """A checked edit of a failed draft: wrong years corrected, or unbacked trailing clauses
    dropped. None when no edit passes the check."""
    fixed = text
    for t in facts.titles.values():
        pattern = rf"(\b{re.escape(t.title)}) \((\d{{4}})\)"
        fixed = re.sub(pattern, (lambda m, y=t.year: f"{m.group(1)} ({y})") if t.year
                       else (lambda m: m.group(1)), fixed)
    candidates = [fixed] if fixed != text else []
    cuts = [m.start() for m in _CLAUSE_END.finditer(fixed)]
    candidates += [fixed[:c].rstrip(" ,;:") + "." for c in reversed(cuts)]
    for candidate in candidates:
        if len(candidate) >= 20 and check_claims(candidate, item, evidence, facts).ok:
            return candidate
    return None


@dataclass
class Justification:
    """A justification with its provenance: the LLM draft, its check, and what was shown."""

    text: str
    source: str  # "llm" | "template"
    grounding: ClaimCheck
    """The check of the shown text."""
    completion: Completion | None = None
    rejected: list[str] = field(default_factory=list)
    """Why the LLM's draft was refused (its violations), when it was."""
    status: DraftStatus = "none"
    draft: str = ""
    draft_check: ClaimCheck | None = None

    @property
    def grounded(self) -> bool:
        """Whether the LLM's draft passed the check unedited (the template's check if none)."""
        return self.draft_check.ok if self.draft_check is not None else self.grounding.ok


def justify(backend: LLMBackend | None, item: Item, evidence: list[Evidence],
            max_tokens: int = 60, *, on_token: Callable[[str], None] | None = None,
            variant: str | PromptVariant = DEFAULT_VARIANT,
            years: Mapping[str, int | None] | None = None) -> Justification:
    """Draft a justification with the LLM and check it claim by claim.

    A draft that passes is shown as written; one that fails is repaired when a checked edit
    passes (`status="repaired"`), else replaced by the template (`status="replaced"`).

    Args:
        backend: The LLM; None gives the template (`status="none"`).
        item: The recommended item.
        evidence: Its evidence.
        max_tokens: Cap on the draft's tokens.
        on_token: Receives the draft as it streams (it may later be repaired or replaced).
        variant: A name in VARIANTS or a PromptVariant.
        years: Item id -> year for liked films the CF statistics name (see `seed_years`).
    """
    chosen = VARIANTS[variant] if isinstance(variant, str) else variant
    facts = facts_of(item, evidence, years)
    template = template_justification(item, evidence)
    lines = facts_for(evidence)
    template_check = check_claims(template, item, evidence, facts) if lines else \
        ClaimCheck(True, [], ["no evidence to state: a plain fallback"])
    if not template_check.ok:
        log.warning("template for %s fails its own check: %s", item.id, template_check.violations)
    if backend is None or not lines:
        return Justification(template, "template", template_check)
    schema = draft_schema(facts) if chosen.grammar else None
    sink = _JsonStringStream(on_token) if (on_token and schema is not None) else on_token
    try:
        completion = backend.chat(messages_for(chosen, item, lines), max_tokens=max_tokens,
                                  stop=["\n"], temperature=0.0, json_schema=schema,
                                  on_token=sink)
    except BackendError as exc:
        log.warning("justification call failed: %s", exc)
        return Justification(template, "template", template_check,
                             rejected=[f"call failed: {exc}"])
    draft = _clean(completion.text, schema is not None)
    check = check_claims(draft, item, evidence, facts)
    if completion.finish_reason == "length":
        check = ClaimCheck(False, [*check.violations, "cut: the draft hit max_tokens"],
                           check.claims)
    if check.ok:
        return Justification(draft, "llm", check, completion, status="passed", draft=draft,
                             draft_check=check)
    log.info("justification draft rejected (%s): %r", check.violations, draft)
    fixed = repair(draft, item, evidence, facts)  # a cut draft may keep its finished clauses
    if fixed is not None:
        return Justification(fixed, "llm", check_claims(fixed, item, evidence, facts),
                             completion, rejected=check.violations, status="repaired",
                             draft=draft, draft_check=check)
    return Justification(template, "template", template_check, completion,
                         rejected=check.violations or ["empty draft"], status="replaced",
                         draft=draft, draft_check=check)
