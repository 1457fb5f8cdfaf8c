"""Prompts are files: `advisor/prompts/<name>.<lang>.j2` (package data; `prompts/` at the top of the repository
points there), rendered strictly, each identified by name and content hash.

Text from documents and users goes into delimited blocks (<passages>, <question>, <history>, and the judge's
<answer>, <claims>, …); anything in it that looks like one of those delimiters is neutralised here, before
rendering, so no template can forget.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from ..config import PROMPTS_DIR
from ..intent import question_intent
from ..schema import Lang, Passage
from . import messages

DEFAULT_PROMPTS_DIR = PROMPTS_DIR
LANGS: tuple[Lang, ...] = ("zh", "en")
# Tag-like text that could close or open one of our blocks: <passage ...>, </question>, < / history >, ＜turn＞ …
_DELIMITER = re.compile(
    r"[<＜‹]\s*/?\s*(passages?|translation|question|history|turn|system|instructions?|answer|claims?|ideal|rubric|topics?)\b([^>＞›]*)[>＞›]?",
    re.IGNORECASE,
)


def neutralise(text: str) -> str:
    """`text` with delimiter look-alikes defused (angle brackets swapped for ⟨ ⟩), so data cannot end a block."""
    return _DELIMITER.sub(lambda m: "⟨" + m.group(0)[1:].rstrip(">＞›") + "⟩", text)


@dataclass(frozen=True)
class RenderedPrompt:
    """A rendered prompt: its text and `name@hash` identity (for the answer's "prompt" field)."""

    text: str
    ref: str


class PromptLibrary:
    """Loads `<name>.<lang>.j2` templates from one folder and renders them with StrictUndefined."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory or DEFAULT_PROMPTS_DIR)

    @cached_property
    def env(self) -> Any:
        import jinja2

        return jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.directory),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text for a model; data is neutralised before rendering
            keep_trailing_newline=False,
        )

    def path(self, name: str, lang: Lang) -> Path:
        return self.directory / f"{name}.{lang}.j2"

    def names(self) -> list[str]:
        """Prompt names that have a file in at least one language."""
        return sorted({p.name.split(".")[0] for p in self.directory.glob("*.j2")})

    def source(self, name: str, lang: Lang) -> str:
        path = self.path(name, lang)
        if not path.is_file():
            raise FileNotFoundError(
                f"prompt file missing: {path} (set ADVISOR_PROMPTS_DIR to the prompts folder)"
            )
        return path.read_text(encoding="utf-8")

    def digest(self, name: str, lang: Lang) -> str:
        """First 8 hex digits of the SHA-256 of the template file."""
        return hashlib.sha256(self.source(name, lang).encode("utf-8")).hexdigest()[:8]

    def variables(self, name: str, lang: Lang) -> set[str]:
        """The variables a template uses (for the test that both languages take the same ones)."""
        import jinja2.meta

        return set(jinja2.meta.find_undeclared_variables(self.env.parse(self.source(name, lang))))

    def render(self, name: str, lang: Lang, **variables: Any) -> RenderedPrompt:
        """Render `name` in `lang`; a missing variable raises jinja2.UndefinedError."""
        text = self.env.get_template(f"{name}.{lang}.j2").render(**variables).strip()
        return RenderedPrompt(text, f"{name}.{lang}@{self.digest(name, lang)}")


AUDIENCES = {
    "sme": {"zh": "一家中小企业的经营者", "en": "the owner of a small or medium-sized firm"},
    "park": {"zh": "园区或开发区的运营方", "en": "the operator of an industrial park or development zone"},
    "official": {"zh": "县市政府的产业或招商官员", "en": "a county or city official in charge of industry"},
    "consultant": {"zh": "一名产业咨询顾问", "en": "an industrial-strategy consultant"},
}


def answer_variables(
    question: str, passages: Sequence[Passage], lang: Lang, profile: str | None = None
) -> dict[str, Any]:
    """Variables of the system and answer prompts: numbered, neutralised passages and question, what kind
    of answer the question asks for (its shape) and, when known, who is asking.

    `passages` come in reading order (as ranked, or as a reader re-ranked them): [n] follows that order. A
    passage in another language than the question brings its aligned translation, when the corpus has one,
    so the model writes from a person's translation instead of making its own.
    """
    return {
        "question": neutralise(question),
        "passages": [
            {
                "n": n,
                "lang": p.chunk.lang,
                "title": neutralise(p.chunk.title).replace('"', "'"),
                "text": neutralise(p.chunk.text),
                "translation": neutralise(p.parallel_text)
                if p.parallel_text and p.chunk.lang != lang
                else None,
            }
            for n, p in enumerate(passages, 1)
        ],
        "refusal": messages.REFUSAL[lang],
        "intent": question_intent(question, lang),
        "audience": AUDIENCES[profile][lang] if profile in AUDIENCES else "",
    }


def condense_variables(
    question: str, history: Sequence[tuple[str, str]], max_chars: int = 600
) -> dict[str, Any]:
    """Variables of the condense prompt: the recent turns (answers shortened) and the follow-up question."""
    turns: list[Mapping[str, str]] = [
        {"question": neutralise(q), "answer": neutralise(_shorten(a, max_chars))} for q, a in history
    ]
    return {"question": neutralise(question), "history": turns}


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rstrip() + "…"
