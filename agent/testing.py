"""Test helpers shipped with the package: a keyword-based responder for the ScriptedBackend."""

from __future__ import annotations

import json
import re
from typing import Any

from agent.backends.base import Message
from agent.backends.scripted import ScriptedBackend
from agent.linking import GENRE_SYNONYMS
from catalog.models import Catalog
from catalog.text import normalize_title


def keyword_responder(catalog: Catalog):  # type: ignore[no-untyped-def]
    """A deterministic stand-in for the LLM: finds catalog titles and genres by substring.

    Understanding calls (with a JSON schema) get an Utterance built from the user's words;
    question calls get a fixed question; justification calls get the first fact back.
    """
    titles = sorted({normalize_title(i.title): i.title for i in catalog.items.values()}.items(),
                    key=lambda kv: -len(kv[0]))
    titles = [(k, v) for k, v in titles if len(k) >= 4]
    genres = set(catalog.genres()) | set(GENRE_SYNONYMS)

    def respond(messages: list[Message], schema: dict[str, Any] | None) -> str:
        if schema is not None and "labels" in schema.get("properties", {}):
            return _label_reply(messages[-1]["content"], schema)
        user = messages[-1]["content"].split("User: ")[-1]
        if schema is None:
            system = messages[0]["content"]
            if "question" in system:
                return "What else would you like to tell me about your taste?"
            facts = re.findall(r"^- (.*)$", user, flags=re.M)
            return (facts[0][0].upper() + facts[0][1:].rstrip(".") + ".") if facts else "A good match."
        text = " " + normalize_title(user) + " "
        low = user.lower()
        negative = re.search(r"\b(no|not|hate|without|nothing with|dislike)\b", low)
        liked, disliked, found = [], [], ""
        for key, title in titles:
            if f" {key} " in text and key not in found:
                found += " " + key
                neg = re.search(rf"\b(hate|hated|dislike|disliked)\b[^.]*{re.escape(key)}",
                                normalize_title(user))
                (disliked if neg else liked).append(title)
        g_like, g_dis = [], []
        for g in sorted(genres):
            if re.search(rf"\b{re.escape(g)}\b", low):
                target = g_dis if negative and re.search(
                    rf"\b(no|not|hate|without|nothing with|dislike)\b[\w ]*{re.escape(g)}",
                    low) else g_like
                target.append(g)
        years = [int(y) for y in re.findall(r"\b(19\d0|20\d0)s\b", low)]
        intent = ("ask" if re.search(r"\b(recommend|suggest|show me)\b", low)
                  else "prefs")
        wire: dict[str, Any] = {"intent": intent, "like": liked[:4], "dislike": disliked[:4],
                                "genres": g_like[:4], "no_genres": g_dis[:4]}
        if years:
            wire.update(from_year=years[0], to_year=years[0] + 9)
        return json.dumps({k: v for k, v in wire.items() if v != []})

    return respond


def _label_reply(prompt: str, schema: dict[str, Any]) -> str:
    """Labels for the span-labelling schema: disliked after a negation, else liked."""
    match = re.search(r'Message: "(.*)"', prompt)
    message = match.group(1) if match else prompt
    labels = {}
    for key in schema["properties"]["labels"].get("required", []):
        at = message.find(key)
        before = message[:at] if at >= 0 else ""
        clause = re.split(r"[.!?;,]|\bbut\b", before)[-1]
        negative = re.search(r"\b(no|not|hate[sd]?|without|nothing|dislike[sd]?|never)\b",
                             clause, re.IGNORECASE)
        labels[key] = "disliked" if negative else "liked"
    ask = re.search(r"\b(recommend|suggest|show me)\b", message, re.IGNORECASE)
    return json.dumps({"intent": "ask" if ask else "prefs", "labels": labels, "missed": []})


def keyword_backend(catalog: Catalog) -> ScriptedBackend:
    """A ScriptedBackend answering through `keyword_responder`."""
    return ScriptedBackend(responder=keyword_responder(catalog))
