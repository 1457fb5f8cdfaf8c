"""The types that cross the seams between stages: plain frozen dataclasses and one-method protocols.

No LangChain, Chroma or Gradio types here. The path of a question, in the order `core.Advisor` runs it:
  Question → (condense) → Retrieval → (read) → Verdict → Draft → Answer,
streamed to the surfaces as `Delta` events (and `Thinking` while a reasoning model thinks), then one `Final`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")  # every language the project speaks; add one here first
Turn = tuple[str, str]  # (question, answer text) of an earlier exchange in a conversation


@dataclass(frozen=True)
class Document:
    """One source document: metadata from its front matter and the verbatim body."""

    doc_id: str
    titles: dict[str, str]
    languages: tuple[str, ...]
    layout: Literal["single", "parallel"]
    body: str
    path: str  # path of the file, relative to its root where possible
    body_line_offset: int  # lines before the body in the file (front matter), for line-accurate locations
    source: str = ""
    date: str | None = None
    kind: str = "article"
    source_file: str = ""
    excerpt_of: str | None = None
    translation_of: str | None = None  # doc id of the original this file translates, line for line
    content_hash: str = ""
    file: Path | None = None  # where it was read from, to read it again when streaming
    root: Path | None = None

    def title_for(self, lang: str) -> str:
        """The title in `lang` if the document has one, else its first title."""
        return self.titles.get(lang) or next(iter(self.titles.values()), self.doc_id)


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: verbatim text from one document, with where it came from."""

    chunk_id: str
    doc_id: str
    title: str
    lang: Lang
    text: str  # verbatim slice of the document body
    position: int  # order within the document (0-based, across language sections)
    path: str
    line_start: int  # 1-based line numbers in the file on disk
    line_end: int
    parallel_id: str | None = None  # chunk id of the aligned passage in the other language
    kind: str = "article"
    translated: bool = (
        False  # a translation made by this project; the original (its parallel) is authoritative
    )
    shown_as: str = ""  # where a person finds it when file and lines say nothing (an upload: its name, page)

    @property
    def location(self) -> str:
        """Where a reader finds the passage: file and line range (an upload: its own name and page)."""
        if self.shown_as:
            return self.shown_as
        lines = (
            f"{self.line_start}" if self.line_start == self.line_end else f"{self.line_start}-{self.line_end}"
        )
        return f"{self.path}:{lines}"


@dataclass(frozen=True)
class Passage:
    """A chunk as retrieved for one question, with its fused score and its parallel text if any."""

    chunk: Chunk
    score: float
    parallel_text: str | None = None
    scores: dict[str, float] = field(default_factory=dict)  # per-retriever normalised scores, for debugging

    def to_dict(self, *, with_score: bool = True) -> dict[str, Any]:
        c = self.chunk
        row: dict[str, Any] = {
            "doc_id": c.doc_id,
            "title": c.title,
            "lang": c.lang,
            "text": c.text,
            "parallel_text": self.parallel_text,
            "location": c.location,
        }
        if with_score:
            row["score"] = round(self.score, 4)
        return row


@dataclass(frozen=True)
class Citation:
    """A numbered source behind the [n] markers of an answer."""

    n: int
    passage: Passage

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.n, **self.passage.to_dict(with_score=False)}


@dataclass(frozen=True)
class Answer:
    """What every surface shows: the answer text, its citations and everything retrieved."""

    question: str
    lang: Lang
    text: str
    refused: bool
    backend: str
    citations: tuple[Citation, ...]
    passages: tuple[Passage, ...]
    timings_ms: dict[str, float]
    standalone_question: str | None = None
    notices: tuple[str, ...] = ()
    prompt: str | None = None  # "name@hash" of the prompt that produced the answer
    fallback: str | None = None  # why an LLM answer fell back to the extractive one
    dropped_citations: int = 0
    partial: bool = False  # answered in part: `not_covered` lists what the documents leave out
    not_covered: tuple[str, ...] = ()
    answerability: float | None = None  # the reader's probability that the passages answer the question
    profile: str | None = (
        None  # who asked: sme, park, official or consultant (None: whoever the question implies)
    )
    index_version: int | None = None  # the index version the passages came from (workers follow versions)

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON contract of `advisor ask --json`."""
        return {
            "question": self.question,
            "lang": self.lang,
            "answer": self.text,
            "refused": self.refused,
            "backend": self.backend,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "standalone_question": self.standalone_question,
            "notices": list(self.notices),
            "prompt": self.prompt,
            "fallback": self.fallback,
            "dropped_citations": self.dropped_citations,
            "partial": self.partial,
            "not_covered": list(self.not_covered),
            "answerability": None if self.answerability is None else round(self.answerability, 4),
            "profile": self.profile,
            "index_version": self.index_version,
        }


@dataclass(frozen=True)
class SourceInfo:
    """One document as listed by `advisor sources`."""

    doc_id: str
    title: str
    languages: tuple[str, ...]
    chunks: int
    path: str
    kind: str
    note: str = ""
    source_file: str = ""


# --- the path of one question ---------------------------------------------------------------------
@dataclass(frozen=True)
class Question:
    """A checked question: cleaned text, its language, and notices to show the user."""

    text: str
    lang: Lang
    notices: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentenceScore:
    """One sentence of a passage as the reader saw it: verbatim text, where it starts, how well it answers."""

    text: str
    start: int  # offset in the passage's chunk text
    score: float  # the reader's probability that this sentence holds the answer


@dataclass(frozen=True)
class Reading:
    """What the reader made of one passage for one question."""

    passage: Passage
    score: float  # the reader's probability that this passage answers the question
    sentences: tuple[SentenceScore, ...] = ()


class Reader(Protocol):
    """Reads (question, passage) pairs: whether each passage answers the question, and where."""

    name: str

    def read(
        self, question: Question, passages: Sequence[Passage], vocabulary: Vocabulary
    ) -> tuple[Reading, ...]: ...


@dataclass(frozen=True)
class Channel:
    """One ranked list behind a retrieval, as the inspector shows it: a dense encoder or BM25, one language."""

    source: str  # an encoder's key, or "bm25"
    lang: str  # the passages' language; "*" when one list spans every language (the dense-only baseline)
    weight: float  # what the list counts for in the fusion
    ranked: tuple[tuple[Chunk, float], ...]  # best first, each with its raw score (cosine or BM25)


@dataclass(frozen=True)
class Trace:
    """Why passages ranked as they did: every channel's list and the fused ranking. Recorded only when asked."""

    channels: tuple[Channel, ...]
    fused: tuple[Passage, ...]


@dataclass(frozen=True)
class Retrieval:
    """Ranked passages plus the raw evidence signals the gate uses to decide whether to refuse."""

    passages: tuple[Passage, ...]
    best_cosine: dict[str, float] = field(default_factory=dict)  # per dense encoder, over all languages
    query_terms: tuple[str, ...] = ()  # question tokens the corpus knows
    readings: tuple[Reading, ...] = ()  # the reader's view of `passages`, same order (empty: no reader)
    trace: Trace | None = None  # the per-channel lists, for the retrieval inspector only


@dataclass(frozen=True)
class Verdict:
    """The gate's decision: answer or refuse, why, and the signals behind it."""

    sufficient: bool
    reason: str = ""  # why it refuses: "not_answered" (the reader), "low_similarity" (nothing to read),
    # "unknown_words" (not one of the question's words is in the corpus)
    unknown_terms: tuple[str, ...] = ()  # names the corpus never mentions (worth a notice)
    answerability: float | None = None  # the reader's probability that the passages answer the question
    not_covered: tuple[str, ...] = ()  # parts of the question the passages do not answer (a partial answer)


@dataclass(frozen=True)
class Reason:
    """One reason behind a verdict, as an `i18n` key and its values, so it reads in either language."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Inspection:
    """What the retrieval inspector shows for one question: what was searched, ranked, read and decided."""

    question: Question
    search: Question  # the standalone rewrite of a follow-up that was searched for (else the question)
    retrieval: Retrieval  # with its trace and the reader's readings
    verdict: Verdict
    reasons: tuple[Reason, ...]

    @property
    def decision(self) -> Literal["answer", "partial", "refuse"]:
        if not self.verdict.sufficient:
            return "refuse"
        return "partial" if self.verdict.not_covered else "answer"


class Vocabulary(Protocol):
    """What the gate and the reader need to know about the indexed corpus's words."""

    def knows(self, token: str) -> bool:
        """Whether a (folded) token occurs in the corpus."""
        ...

    def idf(self, token: str) -> float:
        """How specific a (folded) token is in the corpus, in [0, 1] (1: it never occurs)."""
        ...

    def pinyin_map(self) -> dict[str, list[str]]:
        """Toneless pinyin → the corpus's Chinese names ('wenzhou' → ['温州'])."""
        ...


@dataclass(frozen=True)
class Draft:
    """An answer before timings and metadata: text with [n] markers and the citations behind them."""

    text: str
    citations: tuple[Citation, ...]
    refused: bool = False
    prompt: str | None = None  # "name@hash" of the prompt, for answerers that use one
    dropped_citations: int = 0
    fallback: str | None = None


class Answerer(Protocol):
    """Turns a checked question and its retrieved passages into a cited draft answer."""

    backend: str

    def answer(self, question: Question, passages: Sequence[Passage]) -> Draft: ...


class Deadline:
    """A point in time that every wait of one question is bounded by."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def sub(self, share: float) -> Deadline:
        """A shorter deadline inside this one: `share` of the total, never past the end."""
        return Deadline(min(self.remaining(), self.seconds * share))


# --- what a streamed answer yields ------------------------------------------------------------------
@dataclass(frozen=True)
class Delta:
    """A piece of answer text, as it is written."""

    text: str


@dataclass(frozen=True)
class Thinking:
    """The model is thinking: a sign of life for the page ("thinking…"), never the thinking's text.

    `retract` means the answer text streamed so far was thinking too (a reply that closed a `</think>` it
    never opened, as servers do that put the opening tag in the prompt): a surface clears what it showed.
    """

    retract: bool = False


@dataclass(frozen=True)
class Final:
    """The finished answer; always the last event of a stream. Its text is authoritative."""

    answer: Answer


Progress = Delta | Thinking  # what a stream yields before its Final
Event = Delta | Thinking | Final


class AnswerStream:
    """Iterate for the text as it is written; `answer` holds the finished Answer once iteration ends."""

    def __init__(self, events: Iterator[Event]) -> None:
        self._events = events
        self._answer: Answer | None = None

    def events(self) -> Iterator[Progress]:
        """Every event before the Final, for surfaces that show "thinking…" as well as the text."""
        for event in self._events:
            if isinstance(event, Final):
                self._answer = event.answer
            else:
                yield event

    def close(self) -> None:
        """Stop writing (a model's stream is closed, its connection let go); idempotent."""
        close = getattr(self._events, "close", None)
        if callable(close):
            close()

    def __iter__(self) -> Iterator[str]:
        for event in self.events():
            if isinstance(event, Delta):
                yield event.text

    @property
    def answer(self) -> Answer:
        if self._answer is None:
            for _ in self:  # not consumed yet: run it to the end
                pass
        if self._answer is None:
            raise RuntimeError("the answer stream ended without a Final event")
        return self._answer
