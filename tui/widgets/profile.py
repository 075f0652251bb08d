"""The profile pane: what the agent believes about the user, each belief removable."""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from agent import UserProfile

TitleOf = Callable[[str], str]
EMPTY = "Nothing yet: tell me about movies you like."
REMEMBERED = "  · remembered"
"""The mark of a belief from an earlier session (the rest are this session's)."""


def entity_label(entity: str) -> str:
    """'genre:sci-fi' -> 'sci-fi (genre)'; 'person:Ridley Scott' -> 'Ridley Scott (person)'."""
    kind, _, name = entity.partition(":")
    return f"{name} ({kind})" if name else entity


def belief_rows(profile: UserProfile, title_of: TitleOf,
                remembered: dict[str, str] | None = None) -> list[tuple[str, list[Option]]]:
    """Groups of (heading, options); an option id is '<belief kind>|<value>'.

    Beliefs seeded from the user's long-term memory (`remembered`, key -> polarity) are marked
    REMEMBERED; the rest were learned in this session. Seen items and genre filters are shown
    but disabled (a genre filter goes away with its disliked genre), except a remembered seen
    item, which can be forgotten (removing it as an item drops its "seen" mark).
    """
    remembered = remembered or {}

    def mark(label: str, key: str) -> str:
        return f"{label}{REMEMBERED}" if key in remembered else label

    liked_titles = {i.item_id: i.title for i in profile.liked_items}
    disliked_titles = {i.item_id: i.title for i in profile.disliked_items}
    liked = [Option(mark(liked_titles.get(i) or title_of(i), i), id=f"liked_item|{i}")
             for i in profile.liked_ids()]
    disliked = [Option(mark(disliked_titles.get(i) or title_of(i), i), id=f"disliked_item|{i}")
                for i in profile.disliked_ids()]
    seen = [Option(mark(title_of(i), i), id=f"liked_item|{i}") if i in remembered
            else Option(title_of(i), id=f"seen|{i}", disabled=True)
            for i, kind in profile.feedback.items() if kind == "seen"]
    c = profile.constraints
    constraints = []
    if c.year_min is not None:
        constraints.append(Option(f"from {c.year_min}", id="constraint|year_min"))
    if c.year_max is not None:
        constraints.append(Option(f"until {c.year_max}", id="constraint|year_max"))
    if c.genres_any:
        constraints.append(Option("only " + ", ".join(c.genres_any), id="constraint|genres_any",
                                  disabled=True))
    return [
        ("Liked movies", liked),
        ("Not for me", disliked),
        ("Seen", seen),
        ("Liked genres, people, tags",
         [Option(mark(entity_label(e), e), id=f"liked_entity|{e}")
          for e in profile.liked_entities]),
        ("Disliked genres, people, tags",
         [Option(mark(entity_label(e), e), id=f"disliked_entity|{e}")
          for e in profile.disliked_entities]),
        ("Keywords", [Option(k, id=f"keyword|{k}") for k in profile.keywords]),
        ("Constraints", constraints),
    ]


class ProfilePane(OptionList):
    """Beliefs grouped under headings; delete/x asks the app to remove the highlighted one."""

    DEFAULT_CSS = """
    ProfilePane { border: round $primary-darken-1; height: 1fr; padding: 0 1; }
    ProfilePane:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("delete", "remove", "Remove belief"),
        Binding("x", "remove", "Remove belief", show=False),
    ]

    class RemoveRequested(Message):
        """The user wants a belief removed."""

        def __init__(self, kind: str, value: str, label: str) -> None:
            super().__init__()
            self.kind = kind
            self.value = value
            self.label = label

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self.border_title = "What I believe about you"
        self.show_profile(UserProfile(), str)

    def show_profile(self, profile: UserProfile, title_of: TitleOf,
                     remembered: dict[str, str] | None = None) -> None:
        """Show a profile (beliefs from memory marked), keeping the highlight near where it
        was."""
        previous = self.highlighted
        options: list[Option | None] = []
        for heading, rows in belief_rows(profile, title_of, remembered):
            if rows:
                options.append(Option(f"── {heading}", id=f"heading|{heading}", disabled=True))
                options.extend(rows)
        if not options:
            options.append(Option(EMPTY, id="heading|empty", disabled=True))
        self.set_options(options)
        if previous is not None and self.has_focus:
            enabled = [i for i, o in enumerate(self.options) if not o.disabled]
            if enabled:
                self.highlighted = min(enabled, key=lambda i: (abs(i - previous), -i))

    def beliefs(self) -> list[tuple[str, str, str]]:
        """The removable beliefs shown, as (kind, value, label)."""
        out = []
        for option in self.options:
            kind, _, value = (option.id or "").partition("|")
            if not option.disabled:
                out.append((kind, value, str(option.prompt)))
        return out

    def lines(self) -> list[str]:
        """Every line shown (headings included)."""
        return [str(option.prompt) for option in self.options]

    def action_remove(self) -> None:
        """Ask the app to remove the highlighted belief."""
        option = self.highlighted_option
        if option is None or option.disabled or not option.id:
            return
        kind, _, value = option.id.partition("|")
        self.post_message(self.RemoveRequested(kind, value, str(option.prompt)))
