"""What the surfaces ask the core besides answers: why a question retrieved what it did (the inspector),
follow-up questions for an answer, and a cited document in reading order (the citation reader).

A mixin of `core.Advisor`, kept apart so the question's own path stays readable in one short module; it
runs the same stages, on the same index version.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .answer.question import prepare_question
from .answer.reasons import gate_reasons
from .config import Settings
from .schema import Answer, Chunk, Deadline, Inspection, Lang, Question, Retrieval, Turn, Verdict, Vocabulary

if TYPE_CHECKING:
    from .answer.llm import LLMAnswerer
    from .index.follow import Follower
    from .retrieve.hybrid import HybridRetriever


class Stages(Protocol):
    """What the tools use of `core.Advisor`: its settings, index version, and stages up to the gate."""

    settings: Settings
    follower: Follower
    gate: Callable[[Question, Retrieval, Vocabulary], Verdict]

    def retriever(self) -> HybridRetriever: ...

    def _answerer(
        self, backend: str | None, question: Question, notices: list[str]
    ) -> tuple[LLMAnswerer | None, str | None]: ...

    def _condense(
        self, question: Question, history: Sequence[Turn], llm: Any, deadline: Deadline
    ) -> Question: ...

    def _read(self, question: Question, retrieval: Retrieval, vocabulary: Vocabulary) -> Retrieval: ...


class CoreTools:
    """The inspector's, the suggestions' and the reader's questions to the core."""

    def explain(
        self: Stages,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        depth: int = 10,
    ) -> Inspection:
        """The stages of `ask_stream` up to the gate, every ranked list kept `depth` deep; no answer is written."""
        question = prepare_question(raw_question, self.settings.max_question_chars)
        llm, _ = self._answerer(backend, question, [])
        search = self._condense(question, history, llm, Deadline(self.settings.llm_timeout_s))
        _, retriever = self.follower.current()  # one version for the whole inspection
        retrieval = retriever.retrieve(search.text, search.lang, self.settings.top_k, explain=depth)
        retrieval = self._read(search, retrieval, retriever.lexical)
        verdict = self.gate(search, retrieval, retriever.lexical)
        return Inspection(question, search, retrieval, verdict, gate_reasons(search, retrieval, verdict))

    def suggest(self: Stages, answer: Answer, backend: str | None = None) -> tuple[str, ...]:
        """2–3 follow-up questions from the cited documents' sections, phrased by the LLM when one is set."""
        from .answer.suggest import suggest

        llm, _ = self._answerer(backend, Question(answer.question, answer.lang), [])
        return suggest(answer, self.retriever().chunks.values(), llm, llm.prompts if llm else None)

    def document(self: Stages, doc_id: str, lang: Lang) -> list[Chunk]:
        """Every indexed passage of a document in one language, in reading order."""
        chunks = [c for c in self.retriever().chunks.values() if c.doc_id == doc_id and c.lang == lang]
        return sorted(chunks, key=lambda c: c.position)
