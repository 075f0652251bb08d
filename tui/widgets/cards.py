"""Recommendation cards (title, year, score, justification, evidence) and the pane holding them."""

from __future__ import annotations

from typing import Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static

from agent import Recommendation

FeedbackKind = Literal["liked", "disliked", "seen"]

EVIDENCE_KINDS: dict[str, str] = {
    "kg_path": "KG path",
    "cf_neighbour": "CF neighbours",
    "snippet": "matching snippet",
}
FEEDBACK_BADGES: dict[str, tuple[str, str]] = {
    "liked": ("♥ liked", "bold $success"),
    "disliked": ("✗ not for me", "bold $error"),
    "seen": ("◉ seen it", "bold $warning"),
}


DRAFT_NOTES: dict[str, str] = {
    "streaming": "writing…",
    "repaired": "checked: the model's sentence was edited to match the evidence",
    "replaced": "checked: the model's sentence was replaced by the evidence",
}
"""A line under the justification saying what the claim check did with the LLM's draft."""


class RecommendationCard(Widget, can_focus=True):
    """One recommendation; keys give feedback, ask for more like it, or show its evidence."""

    DEFAULT_CSS = """
    RecommendationCard {
        height: auto;
        padding: 0 1;
        margin: 0 0 1 0;
        border: round $panel-lighten-2;
    }
    RecommendationCard:focus { border: round $accent; background: $boost; }
    RecommendationCard.-liked { border: round $success; }
    RecommendationCard.-disliked { border: round $error; color: $text-muted; }
    RecommendationCard.-seen { border: round $warning; }
    """
    BINDINGS = [
        Binding("l", "feedback('liked')", "Like"),
        Binding("d", "feedback('disliked')", "Not for me"),
        Binding("s", "feedback('seen')", "Seen it"),
        Binding("m", "more_like", "More like this"),
        Binding("e", "toggle_evidence", "Evidence"),
    ]

    expanded: reactive[bool] = reactive(False, layout=True)
    feedback: reactive[str | None] = reactive(None, layout=True)

    class Feedback(Message):
        """The user gave feedback on a card."""

        def __init__(self, card: RecommendationCard, kind: FeedbackKind) -> None:
            super().__init__()
            self.card = card
            self.kind: FeedbackKind = kind

        @property
        def item_id(self) -> str:
            """The card's item id."""
            return self.card.recommendation.item_id

    class MoreLike(Message):
        """The user asked for more like a card's item."""

        def __init__(self, card: RecommendationCard) -> None:
            super().__init__()
            self.card = card

        @property
        def item_id(self) -> str:
            """The card's item id."""
            return self.card.recommendation.item_id

    def __init__(self, recommendation: Recommendation, feedback: str | None = None) -> None:
        super().__init__()
        self.recommendation = recommendation
        self.set_reactive(RecommendationCard.feedback, feedback)

    def update_recommendation(self, rec: Recommendation) -> None:
        """Show a newer version of the card's recommendation (a streamed or checked draft)."""
        self.recommendation = rec
        self.refresh(layout=True)

    @property
    def display_title(self) -> str:
        """Title with the year when known."""
        return self.recommendation.display_title

    def watch_feedback(self, feedback: str | None) -> None:
        """Colour the card by its feedback."""
        for kind in FEEDBACK_BADGES:
            self.set_class(feedback == kind, f"-{kind}")

    def on_mount(self) -> None:
        """Apply the initial feedback colour."""
        self.watch_feedback(self.feedback)

    def render(self) -> Content:
        """Title line, justification, and the evidence (one line per Evidence when expanded)."""
        rec = self.recommendation
        parts: list[str | tuple[str, str]] = [(self.display_title, "bold"),
                                              (f"  score {rec.score:.3f}", "dim")]
        if self.feedback in FEEDBACK_BADGES:
            badge, style = FEEDBACK_BADGES[self.feedback]
            parts.append((f"  {badge}", style))
        if rec.justification:
            parts.append("\n" + rec.justification)
        if rec.draft_status in DRAFT_NOTES:
            parts.append(("\n" + DRAFT_NOTES[rec.draft_status], "dim italic"))
        if rec.evidence and not self.expanded:
            parts.append((f"\n▸ evidence ({len(rec.evidence)}), press e", "dim"))
        elif rec.evidence:
            parts.append(("\n▾ evidence", "dim"))
            for ev in rec.evidence:
                parts += [(f"\n  {ev.tool}", "bold $accent"),
                          (f" · {EVIDENCE_KINDS.get(ev.kind, ev.kind)}: ", "$accent"), ev.text]
        return Content.assemble(*parts)

    @property
    def plain(self) -> str:
        """The card's text without styles."""
        return self.render().plain

    def action_feedback(self, kind: FeedbackKind) -> None:
        """Ask the app to record feedback."""
        self.post_message(self.Feedback(self, kind))

    def action_more_like(self) -> None:
        """Ask the app for more like this item."""
        self.post_message(self.MoreLike(self))

    def action_toggle_evidence(self) -> None:
        """Show or hide the evidence lines."""
        self.expanded = not self.expanded


class RecommendationsPane(VerticalScroll):
    """The cards of the latest recommendation turn; up/down move between them."""

    DEFAULT_CSS = """
    RecommendationsPane { border: round $primary-darken-1; padding: 0 1; height: 2fr; }
    RecommendationsPane:focus-within { border: round $accent; }
    RecommendationsPane > #cards-empty { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Previous card", show=False),
        Binding("down", "move(1)", "Next card", show=False),
    ]
    EMPTY = "No recommendations yet."

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Recommendations"
        self.can_focus = False

    def compose(self) -> ComposeResult:
        yield Static(self.EMPTY, id="cards-empty")

    @property
    def cards(self) -> list[RecommendationCard]:
        """The cards shown, top to bottom."""
        return list(self.query(RecommendationCard))

    def clear(self) -> None:
        """Remove every card."""
        self.query(RecommendationCard).remove()
        self.query_one("#cards-empty").display = True

    def add_card(self, rec: Recommendation, feedback: str | None = None) -> RecommendationCard:
        """Append a card."""
        self.query_one("#cards-empty").display = False
        card = RecommendationCard(rec, feedback)
        self.mount(card)
        return card

    def show(self, recs: list[Recommendation], feedback: dict[str, str]) -> None:
        """Replace the cards with these recommendations."""
        self.clear()
        for rec in recs:
            self.add_card(rec, feedback.get(rec.item_id))

    def card_for(self, item_id: str) -> RecommendationCard | None:
        """The card of an item, if shown."""
        return next((c for c in self.cards if c.recommendation.item_id == item_id), None)

    def sync_feedback(self, feedback: dict[str, str]) -> None:
        """Update every card's feedback badge from the profile."""
        for card in self.cards:
            card.feedback = feedback.get(card.recommendation.item_id)

    def action_move(self, step: int) -> None:
        """Focus the previous/next card."""
        cards = self.cards
        if not cards:
            return
        focused = self.screen.focused
        index = cards.index(focused) if focused in cards else (-1 if step > 0 else len(cards))
        cards[max(0, min(len(cards) - 1, index + step))].focus()
