"""A scripted core for the web handlers: queue answers with `enqueue`, read the questions it got in `calls`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from advisor.config import Settings
from advisor.schema import (
    Answer,
    AnswerStream,
    Channel,
    Chunk,
    Citation,
    Delta,
    Event,
    Final,
    Inspection,
    Passage,
    Question,
    Reason,
    Retrieval,
    Trace,
    Turn,
    Verdict,
)


def answer(text: str = "Clusters share suppliers.[1]", lang: str = "en", refused: bool = False) -> Answer:
    """A small finished Answer with one cited passage (or a refusal with it as related reading)."""
    chunk = Chunk("c1", "doc", "Cluster basics", lang, "Clusters share suppliers.", 0, "corpus/doc.md", 3, 4)  # type: ignore[arg-type]
    passage = Passage(chunk, 0.9, None)
    return Answer(
        "q",
        lang,  # type: ignore[arg-type]
        text,
        refused,
        "extractive",
        () if refused else (Citation(1, passage),),
        (passage,),
        {"total": 42.0},
    )


@dataclass
class FakeCore:
    """Answers from a queue; each answer is streamed in `pieces` deltas; an Exception in the queue is raised.

    It is its own knowledge-base registry (`core(kb)`), remembering which bases were asked in `bases`.
    """

    settings: Settings = field(default_factory=Settings)
    embedders: list[object] = field(default_factory=lambda: [object()])
    pieces: int = 2
    queue: list[Answer | Exception] = field(default_factory=list)
    calls: list[tuple[str, tuple[Turn, ...]]] = field(default_factory=list)
    suggestions: tuple[str, ...] = ()
    documents: dict[str, list[Chunk]] = field(default_factory=dict)  # doc id → its passages in order
    bases: list[str] = field(default_factory=list)
    profiles: list[str | None] = field(default_factory=list)  # the profile each streamed question came with

    def core(self, kb: str) -> FakeCore:
        self.bases.append(kb)
        return self

    def suggest(self, answer: Answer) -> tuple[str, ...]:
        return self.suggestions

    def document(self, doc_id: str, lang: str) -> list[Chunk]:
        return list(self.documents.get(doc_id, []))

    def explain(self, raw_question: str, *, history: Sequence[Turn] = ()) -> Inspection:
        """A fixed inspection: one dense and one BM25 channel, a refusal for want of a reader's yes."""
        self.calls.append((raw_question, tuple(history)))
        chunk = answer().passages[0].chunk
        trace = Trace(
            (Channel("e5", "en", 1.0, ((chunk, 0.91),)), Channel("bm25", "en", 0.6, ((chunk, 7.5),))),
            (Passage(chunk, 1.0),),
        )
        retrieval = Retrieval((Passage(chunk, 1.0),), {"e5": 0.91}, trace=trace)
        searched = f"{history[-1][0]} — {raw_question}" if history else raw_question
        verdict = Verdict(False, "not_answered", answerability=0.2)
        reasons = (Reason("why_reader", {"p": 0.2, "bar": 0.5, "met": False}), Reason("why_not_answered"))
        return Inspection(Question(raw_question, "en"), Question(searched, "en"), retrieval, verdict, reasons)

    def locate(self, doc_id: str, quote: str, lang: str | None = None) -> Passage:
        """Any quote is "found": a passage holding exactly it (the diagnosis tab cites its criteria)."""
        chunk = Chunk(f"{doc_id}:000", doc_id, doc_id, "zh", quote, 0, f"corpus/{doc_id}.md", 1, 1)
        return Passage(chunk, 1.0)

    def enqueue(self, *items: Answer | Exception) -> None:
        self.queue.extend(items)

    def ask(self, raw_question: str, *, history: Sequence[Turn] = ()) -> Answer:
        return self.stream(raw_question, history=history).answer

    def stream(
        self, raw_question: str, *, history: Sequence[Turn] = (), profile: str | None = None
    ) -> AnswerStream:
        self.calls.append((raw_question, tuple(history)))
        self.profiles.append(profile)
        item = self.queue.pop(0)
        return AnswerStream(self._events(item))

    def _events(self, item: Answer | Exception) -> Iterator[Event]:
        if isinstance(item, Exception):
            raise item
        size = max(1, len(item.text) // self.pieces)
        for start in range(0, len(item.text), size):
            yield Delta(item.text[start : start + size])
        yield Final(item)
