"""Text helpers every publisher shares (e-mail, Slack, the HTML page).

A message that must shrink loses whole items, never part of one: a word, a `command` and a sentence are
kept whole or left out, and what was left out is counted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`])")


def fit_words(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, cut between words and never inside a `code span`
    (a command), an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.count("`") % 2:  # the cut falls inside a command: leave the whole command out
        cut = cut[: cut.rindex("`")]
    elif not text[len(cut)].isspace():  # inside a word: back to the space before it
        space = cut.rfind(" ")
        cut = cut[:space] if space > 0 else cut
    cut = cut.rstrip(" ,;:—-(")
    return (cut or text[: limit - 1]) + "…"


def fit_sentences(text: str, limit: int) -> str:
    """As many whole sentences of ``text`` as fit in ``limit``; the first cut between words if even
    it does not fit."""
    if len(text) <= limit:
        return text
    sentences = _SENTENCE_END.split(text)
    kept = ""
    for sentence in sentences:
        candidate = f"{kept} {sentence}" if kept else sentence
        if len(candidate) > limit - 2:
            break
        kept = candidate
    return f"{kept} …" if kept else fit_words(text, limit)


def fit_items(items: Sequence[str], limit: int, separator: str = "\n", noun: str = "item") -> str:
    """Whole ``items`` joined by ``separator`` while they fit in ``limit`` characters, then one line
    counting those left out (``… and 3 more findings``)."""
    kept: list[str] = []
    used = 0
    for i, item in enumerate(items):
        rest = len(items) - i - 1
        tail = len(separator) + len(_more(rest, noun)) if rest else 0
        if used + len(separator) * bool(kept) + len(item) + tail > limit:
            return separator.join([*kept, _more(len(items) - i, noun)])
        kept.append(item)
        used += len(separator) * (len(kept) > 1) + len(item)
    return separator.join(kept)


def _more(count: int, noun: str) -> str:
    return f"… and {count} more {noun}{'s' if count != 1 else ''}"
