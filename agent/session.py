"""One conversation: the turn pipeline (understand, link, update, decide, plan, explain, save)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from agent import memory
from agent.backends.base import BackendError, Completion
from agent.grounding import check_grounding
from agent.host import SessionHost
from agent.host import SessionState as SessionState  # re-exported: it used to live here
from agent.justify import justify, seed_years
from agent.planner import genre_first
from agent.policy import SLOT_DESCRIPTION, TEMPLATE_QUESTION, Decision, decide
from agent.profile import FeedbackKind, UserProfile
from agent.reading import Reading
from agent.reply import LLMCall, Recommendation, Reply
from agent.understanding import clean_user_text, understand
from agent.updates import apply_reading
from catalog.text import safe_text
from tools.base import Candidate

if TYPE_CHECKING:
    from agent.backends.base import LLMBackend
    from catalog.models import Item

log = logging.getLogger(__name__)

TextCallback = Callable[[str], None]
CardCallback = Callable[[Recommendation], None]
Oracle = Callable[[UserProfile], tuple[UserProfile, str]]
"""(current profile) -> (the true profile, the true intent): replaces understanding."""


def _call(stage: str, c: Completion, valid_json: bool | None = None) -> LLMCall:
    return LLMCall(stage=stage, prompt_tokens=c.prompt_tokens,
                   completion_tokens=c.completion_tokens, seconds=c.seconds,
                   finish_reason=c.finish_reason, valid_json=valid_json)


class Session:
    """A user's conversation with the agent; use `Agent.session()` to get one."""

    def __init__(self, agent: SessionHost, session_id: str | None = None, user_id: str = "local",
                 state: SessionState | None = None) -> None:
        self.agent = agent
        self.id = session_id or uuid.uuid4().hex[:12]
        self.user_id = user_id
        self.state = state or SessionState()
        self.last_reading: Reading | None = None

    @property
    def profile(self) -> UserProfile:
        """The current profile."""
        return self.state.profile

    # ---- the turn -------------------------------------------------------------------------
    def send(self, text: str, on_text: TextCallback | None = None,
             on_card: CardCallback | None = None, *, oracle: Oracle | None = None) -> Reply:
        """Run one turn and persist it. Never raises for bad input; returns a Reply.

        Args:
            text: The user's message.
            on_text: Receives streamed reply text.
            on_card: Receives each recommendation card as it is ready.
            oracle: Evaluation only: supplies the true profile and intent instead of the LLM's
                understanding and the entity linking; the policy, tools and replies are the same.
        """
        text = safe_text(text)  # lone surrogates / undecodable bytes -> U+FFFD, once, here
        start = time.perf_counter()
        timings: dict[str, float] = {}
        calls: list[LLMCall] = []
        notices: list[str] = []
        self.state.turn += 1
        text = text if isinstance(text, str) else str(text)
        if not clean_user_text(text):
            reply = self._reply("message", "I didn't catch anything there. Tell me about a "
                                "movie you liked, or a genre you're in the mood for.",
                                notices=["empty message"])
            return self._finish(text, reply, start, timings)
        if oracle is not None:
            self.state.profile, intent = oracle(self.profile)
            unknown: list[str] = []
        else:
            intent, unknown = self._understand(text, calls, notices, timings)
        self.state.last_intent = intent
        if unknown:
            notices.append("I don't know " + ", ".join(f"'{u}'" for u in unknown)
                           + " in this catalog.")
        plan = self._plan(timings)
        t = time.perf_counter()
        decision = decide(memory.policy_view(self), intent,
                          [c.item_id for c in plan], self.agent.catalog,
                          self.state.questions_asked, self.agent.max_questions)
        timings["policy"] = time.perf_counter() - t
        if decision.action == "ask":
            reply = self._ask(decision, notices, calls, timings, on_text)
        else:
            reply = self._recommend(plan, notices, calls, timings, on_text, on_card)
            self._set_context([r.item_id for r in reply.recommendations], salient_first=True)
            self.state.last_slot = None
        reply.unknown_titles = unknown
        return self._finish(text, reply, start, timings, calls)

    def _understand(self, text: str, calls: list[LLMCall], notices: list[str],
                    timings: dict[str, float]) -> tuple[str, list[str]]:
        """Read the message (catalog first, LLM labels when needed) and fold it into the
        profile, reactions included: (intent, unknown mentions)."""
        t = time.perf_counter()
        settings = self.agent.settings
        understood = understand(self.agent.backend, self.agent.reader, text,
                                context_items=self.state.context_items,
                                context_text=self.state.last_question or "",
                                slot=self.state.last_slot, mode=settings.understanding_llm,
                                context_people=self.state.context_people)
        timings["understanding"] = time.perf_counter() - t
        calls += [_call("understanding", c, understood.valid_json) for c in understood.completions]
        t = time.perf_counter()
        update = apply_reading(self.profile, understood.reading, self.agent.linker,
                               self.state.context_items, self.state.salient)
        for item_id, kind in update.feedback:
            self._apply_feedback(item_id, kind)
        timings["linking"] = time.perf_counter() - t
        self.last_reading = understood.reading
        return understood.reading.intent, update.unknown

    # ---- transcripts --------------------------------------------------------------------
    def observe(self, role: str, text: str) -> None:
        """Feed one turn of a conversation that happened elsewhere, without replying.

        Args:
            role: "user" (the person being recommended to) or "assistant" (whoever
                recommends: its titles become suggestions the user's next reactions label).
            text: What was said.

        Raises:
            ValueError: for a role other than "user" or "assistant".
        """
        if role not in ("user", "assistant"):
            raise ValueError(f"role must be 'user' or 'assistant', got {role!r}")
        text = clean_user_text(safe_text(text))
        if not text:
            return
        if role == "assistant":
            reading = self.agent.reader.read(text, role="assistant")
            ids = [s.value for s in reading.spans if s.kind == "title" and s.value]
            for item_id in ids:
                if item_id not in self.profile.suggested_items:
                    self.profile.suggested_items.append(item_id)
            if ids:
                self._set_context(ids, salient_first=False)
            self.state.context_people = [s.value for s in reading.spans if s.kind == "person"]
            self.state.last_question = text if "?" in text else None
            self.state.last_slot = None
        else:
            intent, _ = self._understand(text, [], [], {})
            self.state.last_intent = intent
        self.state.ranked_stale = True
        memory.save_now(self, "said")
        self.agent.store.save_state(self.id, self.user_id, self.state.model_dump(mode="json"))

    def recommend(self, on_text: TextCallback | None = None,
                  on_card: CardCallback | None = None) -> Reply:
        """Recommend now from what is known (after `observe`), without reading a message."""
        start = time.perf_counter()
        timings: dict[str, float] = {}
        calls: list[LLMCall] = []
        self.state.turn += 1
        plan = self._plan(timings)
        reply = self._recommend(plan, [], calls, timings, on_text, on_card)
        self._set_context([r.item_id for r in reply.recommendations], salient_first=True)
        return self._finish("", reply, start, timings, calls)

    def _set_context(self, item_ids: list[str], salient_first: bool) -> None:
        self.state.context_items = list(item_ids)
        self.state.context_people = []
        self.state.salient = (item_ids[0] if salient_first else item_ids[-1]) if item_ids else None

    def _plan(self, timings: dict[str, float]) -> list[Candidate]:
        result = self.agent.plan(self.profile, self.state.tool_weights, self.id)
        timings.update(result.timings)
        self._tools_used = result.tools_used
        asked = {e.split(":", 1)[1] for e in memory.session_view(
            self.profile, self.state.remembered).liked_entities if e.startswith("genre:")}
        candidates = genre_first(result.candidates, self.agent.catalog, asked)
        self.state.last_ranked = [c.item_id for c in candidates[:100]]
        return candidates

    def _ask(self, decision: Decision, notices: list[str], calls: list[LLMCall],
             timings: dict[str, float], on_text: TextCallback | None) -> Reply:
        t = time.perf_counter()
        slot = decision.slot or "genre"
        question = self._write_question(slot, calls, on_text)
        timings["question"] = time.perf_counter() - t
        self.profile.asked_slots.append(slot)
        self.state.questions_asked += 1
        self.state.last_question = question
        self.state.last_slot = slot
        prefix = " ".join(n for n in notices if n.startswith("I don't know"))
        return self._reply("question", (prefix + " " + question).strip(), notices=notices,
                           question_slot=slot)

    def _write_question(self, slot: str, calls: list[LLMCall],
                        on_text: TextCallback | None) -> str:
        template = TEMPLATE_QUESTION[slot]
        settings = self.agent.settings
        if not (settings.justify_with_llm and settings.llm_questions):
            return template
        known = self._known_summary()
        messages = [
            {"role": "system", "content": "You are a friendly movie recommender interviewing a "
             "user. Write ONE short question (under 15 words). Output only the question."},
            {"role": "user", "content": f"{known}Ask about {SLOT_DESCRIPTION[slot]}."},
        ]
        try:
            c = self.agent.backend.chat(messages, max_tokens=32, stop=["\n"], on_token=on_text)
        except BackendError as exc:
            log.warning("question call failed: %s", exc)
            return template
        calls.append(_call("question", c))
        q = " ".join(c.text.split()).strip().strip('"')
        if "?" in q:
            q = q[: q.index("?") + 1]
        allowed = [known, SLOT_DESCRIPTION[slot], template]
        if not (8 <= len(q) <= 160 and q.endswith("?") and check_grounding(q, allowed).ok):
            return template
        return q

    def _known_summary(self) -> str:
        p = self.profile
        bits = [i.title for i in p.liked_items[:3]]
        bits += [e.split(":", 1)[1] for e in p.liked_entities[:3]]
        return f"The user likes: {', '.join(bits)}.\n" if bits else ""

    def _recommend(self, plan: list[Candidate], notices: list[str], calls: list[LLMCall],
                   timings: dict[str, float], on_text: TextCallback | None,
                   on_card: CardCallback | None) -> Reply:
        t = time.perf_counter()
        n = self.agent.settings.n_recommendations
        recs: list[Recommendation] = []
        header = "Here are some picks for you:" if plan else (
            "I couldn't find anything that fits all your constraints. Try relaxing one?")
        if on_text:
            on_text(header + "\n")
        settings = self.agent.settings
        backend = self.agent.backend if settings.justify_with_llm else None
        for rank, cand in enumerate(plan[:n]):
            item = self.agent.catalog.items[cand.item_id]
            drafted = backend if rank < settings.llm_justified else None
            stream = rank == 0 and drafted is not None and bool(on_text or on_card)
            rec, completion = self._card(item, cand, drafted, on_text if stream else None,
                                         on_card if stream else None)
            if completion is not None:
                calls.append(_call("justification", completion))
            if not stream:
                if on_card:
                    on_card(rec)
                if on_text:
                    on_text(f"- {rec.line()}\n")
            recs.append(rec)
            self.profile.shown_items.append(item.id)
        timings["justification"] = time.perf_counter() - t
        self.state.questions_asked = 0
        self.state.last_question = None
        lines = [header] + [f"{i}. {r.line()}" for i, r in enumerate(recs, 1)]
        prefix = " ".join(n for n in notices if n.startswith("I don't know"))
        text = (prefix + "\n" if prefix else "") + "\n".join(lines)
        return self._reply("recommendations", text, notices=notices, recommendations=recs)

    def _card(self, item: Item, cand: Candidate, backend: LLMBackend | None,
              on_text: TextCallback | None, on_card: CardCallback | None,
              ) -> tuple[Recommendation, Completion | None]:
        """Justify one card. With callbacks its LLM draft streams to them token by token, and a
        draft the claim check refuses is then replaced in place (a visible line in the text
        stream, the final card to `on_card`)."""
        card = Recommendation(item_id=item.id, title=item.title, year=item.year,
                              genres=item.genres, score=cand.score, evidence=cand.evidence,
                              draft_status="streaming")
        written: list[str] = []

        def on_token(piece: str) -> None:
            if not written:
                piece = piece.lstrip()
            if not piece:
                return
            written.append(piece)
            if on_text:
                on_text(piece)
            if on_card:
                on_card(card.model_copy(update={"justification": "".join(written)}))

        streaming = bool(on_text or on_card)
        if streaming and on_text:
            on_text(f"- {item.shown_title}: ")
        j = justify(backend, item, cand.evidence, on_token=on_token if streaming else None,
                    years=seed_years(self.agent.catalog, cand.evidence))
        rec = card.model_copy(update={
            "justification": j.text, "justification_source": j.source,
            "grounded": j.grounded, "draft_status": j.status,
            "draft": j.draft if j.status in ("repaired", "replaced") else "",
            "draft_violations": j.rejected})
        if streaming and on_text:
            shown = "".join(written).strip()
            if j.status in ("repaired", "replaced"):
                how = "repaired" if j.status == "repaired" else "replaced by the evidence"
                on_text(("\n" if shown else "") + f"[checked: {how}] {rec.justification}\n")
            elif shown:
                on_text("\n")
            else:
                on_text(f"{rec.justification}\n")
        if streaming and on_card:
            on_card(rec)
        return rec, j.completion

    def _reply(self, kind: str, text: str, **kw: Any) -> Reply:
        return Reply(session_id=self.id, turn=self.state.turn, kind=kind, text=text,
                     profile=self.profile.model_copy(deep=True),
                     tools_used=list(getattr(self, "_tools_used", [])), **kw)

    def _finish(self, user_text: str, reply: Reply, start: float, timings: dict[str, float],
                calls: list[LLMCall] | None = None) -> Reply:
        t = time.perf_counter()
        reply.llm_calls = calls or []
        reply.profile = self.profile.model_copy(deep=True)
        memory.welcome(self, reply)
        remember = memory.record(self, "said")  # atomic with the turn
        self.agent.store.save_turn(self.id, self.user_id, self.state.model_dump(mode="json"),
                                   self.state.turn, user_text[:10_000],
                                   reply.model_dump(mode="json"), memory=remember)
        timings["persistence"] = time.perf_counter() - t
        timings["total"] = time.perf_counter() - start
        reply.timings = timings
        return reply

    # ---- structured actions ---------------------------------------------------------------
    def feedback(self, item_id: str, kind: FeedbackKind) -> None:
        """Record feedback on an item; it reshapes the next ranking and the tool weights."""
        if item_id not in self.agent.catalog.items:
            raise KeyError(f"unknown item id {item_id!r}")
        self._apply_feedback(item_id, kind)
        memory.save_now(self, "button")
        self.agent.store.save_state(self.id, self.user_id, self.state.model_dump(mode="json"))

    def _apply_feedback(self, item_id: str, kind: FeedbackKind) -> None:
        """The one path for feedback, from buttons and from words alike."""
        self.profile.feedback[item_id] = kind
        if kind in ("liked", "disliked"):
            self._learn_weights(item_id, 1.0 if kind == "liked" else -1.0)
        self.state.ranked_stale = True

    def _learn_weights(self, item_id: str, reward: float) -> None:
        """Feedback as reward: tools whose evidence backed the item gain or lose weight."""
        turns = self.agent.store.turns(self.id)
        for turn in reversed(turns):
            for rec in turn["reply"].get("recommendations", []):
                if rec["item_id"] == item_id:
                    for tool in {e["tool"] for e in rec.get("evidence", [])}:
                        w = self.state.tool_weights.get(tool, 1.0)
                        self.state.tool_weights[tool] = min(3.0, max(0.2, w + 0.25 * reward))
                    return

    def more_like(self, item_id: str, on_text: TextCallback | None = None,
                  on_card: CardCallback | None = None) -> Reply:
        """Treat an item as liked and recommend again right away."""
        self.feedback(item_id, "liked")
        return self.send(f"Recommend more like {self.agent.catalog.items[item_id].title}",
                         on_text, on_card)

    def remove_belief(self, kind: str, value: str) -> bool:
        """Remove one belief the user says is wrong (liked/disliked item or entity, keyword)."""
        p = self.profile
        before = p.model_dump_json()
        if kind in ("liked_item", "disliked_item"):
            lst = p.liked_items if kind == "liked_item" else p.disliked_items
            lst[:] = [i for i in lst if i.item_id != value]
            p.feedback.pop(value, None)
        elif kind in ("liked_entity", "disliked_entity"):
            lst2 = p.liked_entities if kind == "liked_entity" else p.disliked_entities
            lst2[:] = [e for e in lst2 if e != value]
        elif kind == "keyword":
            p.keywords[:] = [k for k in p.keywords if k != value]
        elif kind == "constraint":
            update = {"year_min": None} if value == "year_min" else (
                {"year_max": None} if value == "year_max" else {})
            p.constraints = p.constraints.model_copy(update=update)
        changed = p.model_dump_json() != before
        if changed:
            memory.save_now(self, "said")  # a removed belief is forgotten
            self.agent.store.save_state(self.id, self.user_id, self.state.model_dump(mode="json"))
        return changed

    def ranked(self, k: int = 10) -> list[str]:
        """The agent's current ranking, top-K item ids (recomputed after `observe`)."""
        if self.state.ranked_stale or not self.state.last_ranked:
            self._plan({})
            self.state.ranked_stale = False
        return self.state.last_ranked[:k]

    def history(self) -> list[dict[str, Any]]:
        """Completed turns, from the store."""
        return self.agent.store.turns(self.id)
