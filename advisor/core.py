"""The one core every surface calls: build or update the index, list sources, answer a question.

A question runs through named stages, each a method below that takes and returns the seam types of
`advisor.schema`:  prepare → condense → retrieve → read → gate → draft → finish.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Generator, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import messages
from .answer.condense import standalone_question
from .answer.evidence import check_evidence
from .answer.extractive import ExtractiveAnswerer
from .answer.question import prepare_question
from .answer.reasons import gate_reasons
from .config import Settings
from .embed.base import Embedder
from .embed.defaults import default_embedders
from .index.indexer import Index, IngestReport, ProgressFactory
from .ingest.uploads import locate_uploads
from .read.gate import ReaderGate
from .retrieve.hybrid import HybridRetriever, Mode
from .retrieve.lexical import LexicalIndex
from .schema import (
    Answer,
    AnswerStream,
    Chunk,
    Citation,
    Deadline,
    Delta,
    Draft,
    Event,
    Final,
    Inspection,
    Lang,
    Passage,
    Progress,
    Question,
    Reader,
    Retrieval,
    SourceInfo,
    Turn,
    Verdict,
    Vocabulary,
    relay,
)
from .timing import StageTimer

if TYPE_CHECKING:
    from .answer.llm import ChatModelFactory, LLMAnswerer

Gate = Callable[[Question, Retrieval, Vocabulary], Verdict]


class Advisor:
    """Index + retriever + answerer, loaded lazily and shared by the CLI, the web app and the evals."""

    def __init__(
        self,
        settings: Settings,
        embedders: Sequence[Embedder] | None = None,
        chat_models: dict[str, ChatModelFactory] | None = None,
    ) -> None:
        """`chat_models` maps a backend name to a timeout → chat model function (tests pass fakes here)."""
        self.settings = settings
        self.chat_models = dict(chat_models or {})
        self._llm: dict[str, LLMAnswerer] = {}
        self.embedders = list(embedders) if embedders is not None else default_embedders(settings)
        self.index = Index(
            settings.index_dir,
            self.embedders,
            settings.kb_corpus_dir,
            settings.chroma_url,
            settings.uploads_dir,
        )
        # Sentences are scored with the last encoder: the cross-lingual one when present, fast either way.
        self.extractive = ExtractiveAnswerer(self.embedders[-1])
        self.reader = self._build_reader()
        # Answer or refuse: from the reader's probability when there is a reader; tests swap it.
        self.gate: Gate = ReaderGate(self.reader) if self.reader is not None else check_evidence
        self._retriever: HybridRetriever | None = None
        self._lexical: LexicalIndex | None = None
        self._lock = threading.RLock()

    # --- index -------------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] = (), progress: ProgressFactory | None = None) -> IngestReport:
        """Update the index from the corpus, remembered sources and `paths`; the next question sees the change."""
        with self._lock:
            report = self.index.ingest(paths, progress)
            self._retriever = None
            return report

    def ensure_index(self, progress: ProgressFactory | None = None) -> IngestReport | None:
        """Build the index if it does not exist yet; None when it was already there."""
        with self._lock:
            if self.index.exists():
                return None
            return self.ingest(progress=progress)

    def sources(self) -> list[SourceInfo]:
        return self.index.sources()

    def retriever(self) -> HybridRetriever:
        """The retriever over the current index, built once per index version (never per question)."""
        with self._lock:
            if self._retriever is None:
                chunks = locate_uploads(self.index.chunks(), self.settings.uploads_dir)
                self._lexical = LexicalIndex(chunks)
                self._retriever = HybridRetriever(
                    chunks, self.index.vectors(), self._lexical, candidates=self.settings.candidates
                )
            return self._retriever

    def warm_up(self) -> None:
        """Load models and indexes now rather than on the first question."""
        retriever = self.retriever()
        for embedder in self.embedders:
            embedder.embed_query("warm up")
        retriever.lexical.pinyin_map()
        if self.reader is not None:
            from .read.gate import unknown_names

            unknown_names(Question("产业集群在苏州吗", "zh"), retriever.lexical)  # loads jieba's tagger

    def locate(self, doc_id: str, quote: str, lang: Lang | None = None) -> Passage | None:
        """The indexed passage of `doc_id` holding `quote` verbatim, for citing a known sentence (the diagnosis).

        Shown in `lang` with the other side as parallel text when its aligned translation is indexed, as
        retrieved passages are; None when no chunk of that document holds the quote.
        """
        chunks = self.retriever().chunks
        for chunk in chunks.values():
            if chunk.doc_id == doc_id and quote in chunk.text:
                partner = chunks.get(chunk.parallel_id) if chunk.parallel_id else None
                if partner is not None and partner.lang == lang != chunk.lang:
                    return Passage(partner, 1.0, chunk.text)
                return Passage(chunk, 1.0, partner.text if partner is not None else None)
        return None

    # --- questions ---------------------------------------------------------------------------------
    def retrieve(
        self,
        question: Question,
        mode: Mode = "hybrid",
        k: int | None = None,
        exclude: frozenset[str] = frozenset(),
    ) -> Retrieval:
        """Ranked passages for a checked question; `exclude` leaves chunk ids out (the eval's withheld items)."""
        return self.retriever().retrieve(
            question.text, question.lang, k or self.settings.top_k, mode=mode, exclude=exclude
        )

    def explain(
        self, raw_question: str, *, history: Sequence[Turn] = (), backend: str | None = None, depth: int = 10
    ) -> Inspection:
        """The stages of `ask_stream` up to the gate, every ranked list kept `depth` deep: the retrieval inspector."""
        question = prepare_question(raw_question, self.settings.max_question_chars)
        llm, _ = self._answerer(backend, question, [])
        search = self._condense(question, history, llm, Deadline(self.settings.llm_timeout_s))
        retriever = self.retriever()
        retrieval = retriever.retrieve(search.text, search.lang, self.settings.top_k, explain=depth)
        retrieval = self._read(search, retrieval)
        verdict = self.gate(search, retrieval, retriever.lexical)
        return Inspection(question, search, retrieval, verdict, gate_reasons(search, retrieval, verdict))

    def suggest(self, answer: Answer, backend: str | None = None) -> tuple[str, ...]:
        """2–3 follow-up questions from the cited documents' sections, phrased by the LLM when one is set."""
        from .answer.suggest import suggest

        llm, _ = self._answerer(backend, Question(answer.question, answer.lang), [])
        return suggest(answer, self.retriever().chunks.values(), llm, llm.prompts if llm else None)

    def document(self, doc_id: str, lang: Lang) -> list[Chunk]:
        """Every indexed passage of a document in one language, in reading order (the citation reader)."""
        chunks = [c for c in self.retriever().chunks.values() if c.doc_id == doc_id and c.lang == lang]
        return sorted(chunks, key=lambda c: c.position)

    def ask(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
    ) -> Answer:
        """Answer one question with citations, or refuse with related reading. Raises QuestionError on bad input."""
        return self.stream(raw_question, history=history, backend=backend, mode=mode, exclude=exclude).answer

    def stream(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
    ) -> AnswerStream:
        """The answer as it is written: iterate for text, then read `.answer` (see `ask_stream`)."""
        return AnswerStream(
            self.ask_stream(raw_question, history=history, backend=backend, mode=mode, exclude=exclude)
        )

    def llm(self, backend: str | None = None) -> LLMAnswerer | None:
        """The LLM answerer for `backend` (default: the configured one); None for the extractive backend.

        Raises LLMError("not_configured"/"unknown_backend") when the backend cannot be built from the settings.
        """
        name = backend or self.settings.llm_backend
        if name == "extractive":
            return None
        with self._lock:
            if name not in self._llm:
                from .answer.backends import LLMConfig, chat_model_factory
                from .answer.llm import LLMAnswerer
                from .answer.prompts import PromptLibrary

                config = LLMConfig.from_settings(self.settings, name)
                models = self.chat_models.get(name) or chat_model_factory(config)
                self._llm[name] = LLMAnswerer(
                    name,
                    models,
                    self.extractive,
                    PromptLibrary(self.settings.prompts_dir),
                    timeout_s=config.timeout_s,
                    retries=config.retries,
                    secret=config.api_key,
                )
            return self._llm[name]

    def ask_stream(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
    ) -> Iterator[Event]:
        """Yield `Delta`s as the answer is written (`Thinking` while a model thinks), then one `Final`.

        `history` holds earlier (question, answer text) turns of a conversation; a follow-up is rewritten into
        a standalone question before retrieval. `backend` overrides the configured answerer for this question;
        `exclude` leaves chunks out of retrieval (the eval's "withheld answer" items).
        The extractive answerer writes its answer in one piece; an LLM streams it. The Final answer's text is
        authoritative: when a streamed LLM answer fails its checks, it carries the fallback instead, and
        surfaces show that text in place of the streamed one.
        """
        timer = StageTimer()
        with timer("prepare"):
            question = prepare_question(raw_question, self.settings.max_question_chars)
            notices = list(question.notices)
            llm, fallback = self._answerer(backend, question, notices)
            deadline = Deadline(self.settings.llm_timeout_s)
        with timer("condense"):
            search = self._condense(question, history, llm, deadline)
        with timer("retrieve"):
            retrieval = self.retrieve(search, mode=mode, exclude=exclude)
        with timer("read"):
            retrieval = self._read(search, retrieval)
        with timer("gate"):
            verdict = self.gate(search, retrieval, self.vocabulary())
        streamed: list[Delta] = []
        with timer("draft"):
            draft = yield from relay(self._draft(search, retrieval, verdict, llm, deadline), streamed)
        with timer("finish"):
            answer = self._finish(question, search, retrieval, verdict, draft, llm, notices, fallback)
        if not streamed:
            yield Delta(answer.text)  # written in one piece
        timings = timer.timings()
        if not history:
            timings.pop("condense", None)
        yield Final(dataclasses.replace(answer, timings_ms=timings))

    # --- the stages --------------------------------------------------------------------------------
    def _answerer(
        self, backend: str | None, question: Question, notices: list[str]
    ) -> tuple[LLMAnswerer | None, str | None]:
        """prepare: the LLM for this question (None: extractive), and why it is missing when one was asked for."""
        from .answer.llm import LLMError

        name = backend or self.settings.llm_backend
        try:
            return self.llm(name), None
        except LLMError as exc:
            notices.append(messages.LLM_NOT_CONFIGURED[question.lang].format(backend=name))
            return None, exc.reason

    def _condense(
        self, question: Question, history: Sequence[Turn], llm: LLMAnswerer | None, deadline: Deadline
    ) -> Question:
        """condense: a follow-up rewritten into the standalone question that is searched for."""
        rewrite = (lambda q, h: llm.rewrite(q, h, deadline)) if llm is not None else None
        return Question(standalone_question(question, history, rewrite), question.lang, question.notices)

    def _build_reader(self) -> Reader | None:
        """The feature reader over the two bundled encoders' cosines; None without USE or its weights."""
        if self.settings.reader == "none" or len(self.embedders) < 2:
            return None
        from .read.linear import DEFAULT_WEIGHTS, FeatureReader

        if not DEFAULT_WEIGHTS.is_file():
            return None
        return FeatureReader(self.embedders[-1], (self.embedders[0].key, self.embedders[-1].key))

    def _read(self, question: Question, retrieval: Retrieval) -> Retrieval:
        """read: the reader scores every passage; they are reranked by its score (retrieval order breaks ties)."""
        if self.reader is None or not retrieval.passages:
            return retrieval
        readings = self.reader.read(question, retrieval.passages, self.vocabulary())
        order = sorted(range(len(readings)), key=lambda i: (-readings[i].score, i))
        ranked = tuple(readings[i] for i in order)
        return dataclasses.replace(retrieval, passages=tuple(r.passage for r in ranked), readings=ranked)

    def vocabulary(self) -> Vocabulary:
        """What the gate may ask of the corpus: whether it knows a word."""
        return self.retriever().lexical

    def _draft(
        self,
        question: Question,
        retrieval: Retrieval,
        verdict: Verdict,
        llm: LLMAnswerer | None,
        deadline: Deadline,
    ) -> Generator[Progress, None, Draft]:
        """draft: the answerer's cited text; the model is only ever asked when the corpus can support an answer."""
        if not verdict.sufficient:
            return Draft("", (), refused=True)
        if llm is None:
            return self.extractive.answer(question, retrieval.passages, retrieval.readings)
        return (yield from llm.stream(question, retrieval.passages, deadline))

    def _finish(
        self,
        question: Question,
        search: Question,
        retrieval: Retrieval,
        verdict: Verdict,
        draft: Draft,
        llm: LLMAnswerer | None,
        notices: list[str],
        fallback: str | None,
    ) -> Answer:
        """finish: refusal or cited text, which backend wrote it, and the notices to show."""
        refused = draft.refused or not draft.citations
        fallback = draft.fallback or fallback
        if llm is not None and draft.fallback:
            template = messages.LLM_FALLBACK_REFUSED if refused else messages.LLM_FALLBACK
            reason = messages.describe_fallback(draft.fallback, question.lang)
            notices.append(template[question.lang].format(backend=llm.backend, reason=reason))
        citations: tuple[Citation, ...] = ()
        partial = not refused and bool(verdict.not_covered)
        if refused:
            text = messages.REFUSAL[question.lang]
        else:
            text, citations = draft.text, draft.citations
            if partial:
                parts = (
                    "；".join(verdict.not_covered)
                    if question.lang == "zh"
                    else " / ".join(verdict.not_covered)
                )
                notices.append(messages.NOT_COVERED[question.lang].format(parts=parts))
            if verdict.unknown_terms:
                notices.append(
                    messages.UNKNOWN_TERMS[question.lang].format(terms=", ".join(verdict.unknown_terms))
                )
        wrote_it = llm.backend if llm is not None and not draft.fallback else self.extractive.backend
        return Answer(
            question=question.text,
            lang=question.lang,
            text=text,
            refused=refused,
            backend=wrote_it,
            citations=citations,
            passages=retrieval.passages,
            timings_ms={},
            standalone_question=search.text if search.text != question.text else None,
            notices=tuple(notices),
            prompt=draft.prompt,
            fallback=fallback,
            dropped_citations=draft.dropped_citations,
            partial=partial,
            not_covered=verdict.not_covered if partial else (),
            answerability=verdict.answerability,
        )
