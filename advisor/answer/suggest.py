"""Suggested follow-up questions: 2–3 under an answer, drawn from the sections of the documents it cites.

A section is a chunk that opens with a heading line (short, no sentence-final mark: the splitter merges
headings into the paragraph they head). The sections nearest the cited passage, not cited themselves, come
first; then other documents the question retrieved. Without an LLM each becomes a question from a
template; with one, the model phrases them (`prompts/suggest.*.j2`) and the templates are the fallback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ..schema import Answer, Chunk, Lang
from .prompts import PromptLibrary, neutralise

log = logging.getLogger(__name__)
PROMPT = "suggest"
MAX_SUGGESTIONS = 3
_HEADING_CHARS = {"zh": 40, "en": 90}
_ENDS_SENTENCE = re.compile(r"[。！？!?.;；]\s*$")  # a heading may end with a quote, never with a full stop
_NUMBERING = re.compile(r"^\s*(?:#+\s*|[一二三四五六七八九十]+、|[（(]?[0-9IVX]+[.、)）]\s*|•\s*)")
_TEMPLATES: dict[str, dict[str, str]] = {
    "section": {"zh": "关于「{topic}」，资料怎么说？", "en": "What do the documents say about ‘{topic}’?"},
    "document": {"zh": "《{topic}》还讲了什么？", "en": "What else does ‘{topic}’ cover?"},
}


def heading(chunk: Chunk) -> str | None:
    """The section title a chunk opens with, without its numbering; None when it opens with running text."""
    first, _, rest = chunk.text.strip().partition("\n")
    first = first.strip()
    if not rest.strip() or len(first) > _HEADING_CHARS[chunk.lang] or _ENDS_SENTENCE.search(first):
        return None
    title = _NUMBERING.sub("", first).strip(" :：-—")
    return title or None


def topics(answer: Answer, chunks: Iterable[Chunk]) -> list[tuple[str, str]]:
    """(kind, topic) candidates, best first: nearby uncited sections of the cited documents, then documents."""
    cited = [c.passage.chunk for c in answer.citations]
    cited_ids = {c.chunk_id for c in cited}
    by_doc: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        by_doc.setdefault(chunk.doc_id, []).append(chunk)
    found: list[tuple[str, str]] = []
    for source in cited:
        same_lang = [c for c in by_doc.get(source.doc_id, []) if c.lang == source.lang]
        nearby = sorted(same_lang, key=lambda c: (abs(c.position - source.position), c.position))
        found += [("section", title) for c in nearby if c.chunk_id not in cited_ids and (title := heading(c))]
    own = {c.doc_id for c in cited}
    found += [("document", p.chunk.title) for p in answer.passages if p.chunk.doc_id not in own]
    own_titles = {c.title for c in cited}
    return [item for item in dict.fromkeys(found) if item[1] not in own_titles]


def from_templates(lang: Lang, candidates: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(_TEMPLATES[kind][lang].format(topic=topic) for kind, topic in candidates[:MAX_SUGGESTIONS])


def suggest(
    answer: Answer, chunks: Iterable[Chunk], llm: Any = None, prompts: PromptLibrary | None = None
) -> tuple[str, ...]:
    """Up to three follow-up questions for an answer (none for a refusal); an LLM phrases them when given."""
    if answer.refused or not answer.citations:
        return ()
    candidates = topics(answer, chunks)[:MAX_SUGGESTIONS]
    if len(candidates) < 2:
        return ()
    fallback = from_templates(answer.lang, candidates)
    if llm is None or prompts is None:
        return fallback
    return _phrased(answer, candidates, llm, prompts) or fallback


def _phrased(
    answer: Answer, candidates: Sequence[tuple[str, str]], llm: Any, prompts: PromptLibrary
) -> tuple[str, ...]:
    """The model's questions, one per topic and line; () when it fails or answers with anything else."""
    from .llm import LLMError

    rendered = prompts.render(
        PROMPT,
        answer.lang,
        question=neutralise(answer.question),
        topics=[neutralise(topic) for _, topic in candidates],
    )
    try:
        reply = llm.complete("", rendered.text)
    except LLMError as exc:
        log.info("suggestions by %s failed (%s); using the templates", llm.backend, exc.reason)
        return ()
    lines = [re.sub(r"^\s*(?:[-*•]|\d+[.)、])\s*", "", line).strip() for line in reply.splitlines()]
    questions = tuple(line for line in lines if 3 <= len(line) <= 120)
    return questions[:MAX_SUGGESTIONS] if len(questions) >= 2 else ()
