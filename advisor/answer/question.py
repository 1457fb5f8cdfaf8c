"""Checks on the user's question before anything is retrieved: empty, garbage, or too long."""

from __future__ import annotations

import re
import unicodedata

from ..schema import Question
from ..text import detect_lang, has_content
from . import messages

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")


class QuestionError(ValueError):
    """A question that cannot be answered at all; the message tells the user what to do."""


def prepare_question(raw: str, max_chars: int) -> Question:
    """Clean and check `raw`; raise QuestionError for empty or wordless input, truncate overlong input."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", raw or "")).strip()
    if not text:
        raise QuestionError(messages.EMPTY_QUESTION)
    if not has_content(text):
        raise QuestionError(messages.NO_WORDS)
    lang = detect_lang(text[:max_chars])
    notices: list[str] = []
    if len(text) > max_chars:
        # People paste a document and ask at the end, or ask first and paste after: keep both ends.
        tail = max_chars // 4
        text = text[: max_chars - tail - 3].rstrip() + " … " + text[-tail:].lstrip()
        text = text[:max_chars]
        notices.append(messages.TRUNCATED[lang].format(limit=max_chars))
    return Question(text, lang, tuple(notices))
