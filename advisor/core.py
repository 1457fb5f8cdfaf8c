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
from .answer.extractive import ExtractiveAnswerer
from .answer.question import prepare_question
from .answer.roles import Profile
from .config import Settings
from .core_tools import CoreTools
from .embed import default_embedders
from .embed.base import Embedder
from .index.follow import Follower
from .index.indexer import DocumentChange, Index, IngestReport, ProgressFactory
from .ingest.uploads import UploadPlaces
from .read import build_reader
from .read.gate import ReaderGate, open_gate
from .retrieve.hybrid import HybridRetriever, Mode
from .retrieve.lexical import LexicalIndex
from .schema import (
    Answer,
    AnswerStream,
    Citation,
    Deadline,
    Delta,
    Draft,
    Event,
    Final,
    Lang,
    Passage,
    Progress,
    Question,
    Retrieval,
    SourceInfo,
    Turn,
    Verdict,
    Vocabulary,
)
from .stages import StageTimer, relay

if TYPE_CHECKING:
    from .answer.llm import ChatModelFactory, LLMAnswerer

Gate = Callable[[Question, Retrieval, Vocabulary], Verdict]


class Advisor(CoreTools):
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
            settings.kb_shared_dir,
            settings.collection_prefix,
        )
        # Sentences are scored with the last encoder: the cross-lingual one when present, fast either way.
        self.extractive = ExtractiveAnswerer(self.embedders[-1])
        self.reader = build_reader(settings, self.embedders)
        # Answer or refuse: from the reader's probability when there is a reader; tests swap it.
        self.gate: Gate = ReaderGate(self.reader) if self.reader is not None else open_gate
        # Questions are answered from one index version at a time; a newer one is loaded in the background.
        self.follower = Follower(self.index.version, self._load_retriever, settings.index_check_s)
        self._lock = threading.RLock()

    # --- index -------------------------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] = (), progress: ProgressFactory | None = None) -> IngestReport:
        """Update the index from the corpus, remembered sources and `paths`; the next question sees the change."""
        report = self.index.ingest(paths, progress)  # the index serialises writers; questions go on meanwhile
        self.follower.refresh()
        return report

    def ensure_index(self, progress: ProgressFactory | None = None) -> IngestReport | None:
        """Build the index if it does not exist yet; None when it was already there."""
        if self.index.exists():
            return None
        return self.ingest(progress=progress)

    def add_document(self, doc_id: str, text: str, progress: ProgressFactory | None = None) -> DocumentChange:
        """Add one stored document (front matter + text) for every worker; this process answers from it at once."""
        change = self.index.add_document(doc_id, text, progress)
        self.follower.refresh()
        return change

    def remove_document(self, doc_id: str) -> DocumentChange:
        """Remove an uploaded document for every worker; this process stops citing it at once."""
        change = self.index.remove_document(doc_id)
        self.follower.refresh()
        return change

    def sources(self) -> list[SourceInfo]:
        return self.index.sources()

    def _load_retriever(self) -> tuple[int, HybridRetriever]:
        """The retriever over the current version's stored chunk table and lexical index, with its number."""
        snapshot = self.index.snapshot()
        lexical = LexicalIndex.from_stored(snapshot.chunks.ids, snapshot.lexicon)
        # Rows are decoded as questions use them; an upload's are shown by its file's name and page.
        chunks = snapshot.chunks.viewed(UploadPlaces(self.settings.uploads_dir))
        # Dense search reads the version's flat vectors until this process warms the vector store.
        retriever = HybridRetriever(
            chunks, self.index.dense(snapshot), lexical, candidates=self.settings.candidates
        )
        return snapshot.version, retriever

    def retriever(self) -> HybridRetriever:
        """The retriever over the index version this process follows (built once per version, never per question)."""
        return self.follower.current()[1]

    def warm_up(self, concurrent: bool = False) -> None:
        """Load models and indexes now rather than on the first question, and follow new index versions;
        `concurrent`: a server that answers several questions at once (encoders pick their engine for it)."""
        from .text import load_dictionary

        retriever = self.retriever()
        self.index.warm_dense()
        load_dictionary()  # jieba's whole word list, not a question's worth at a time (jieba_lazy.py)
        for embedder in self.embedders:
            serve = getattr(embedder, "serve_concurrently", None)
            if concurrent and serve is not None:
                serve()
            embedder.embed_query("warm up")
        self.follower.follow_in_background()
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
        retriever: HybridRetriever | None = None,
    ) -> Retrieval:
        """Ranked passages for a checked question; `exclude` leaves chunk ids out (the eval's withheld items)."""
        retriever = retriever or self.retriever()
        return retriever.retrieve(
            question.text, question.lang, k or self.settings.top_k, mode=mode, exclude=exclude
        )

    def ask(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
        profile: Profile | None = None,
    ) -> Answer:
        """Answer one question with citations, or refuse with related reading. Raises QuestionError on bad input."""
        return self.stream(
            raw_question, history=history, backend=backend, mode=mode, exclude=exclude, profile=profile
        ).answer

    def stream(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
        profile: Profile | None = None,
    ) -> AnswerStream:
        """The answer as it is written: iterate for text, then read `.answer` (see `ask_stream`)."""
        return AnswerStream(
            self.ask_stream(
                raw_question, history=history, backend=backend, mode=mode, exclude=exclude, profile=profile
            )
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
        profile: Profile | None = None,
    ) -> Iterator[Event]:
        """Yield `Delta`s as the answer is written (`Thinking` while a model thinks), then one `Final`.

        `history` holds earlier (question, answer text) turns of a conversation; a follow-up is rewritten into
        a standalone question before retrieval. `backend` overrides the configured answerer for this question;
        `exclude` leaves chunks out of retrieval (the eval's "withheld answer" items); `profile` (sme, park,
        official, consultant) says who is asking, so what speaks to them comes first.
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
            version, retriever = self.follower.current()  # one version for the whole question
            retrieval = self.retrieve(search, mode=mode, exclude=exclude, retriever=retriever)
        with timer("read"):
            retrieval = self._read(search, retrieval, retriever.lexical)
        with timer("gate"):
            verdict = self.gate(search, retrieval, retriever.lexical)
        streamed: list[Delta] = []
        with timer("draft"):
            draft = yield from relay(
                self._draft(search, retrieval, verdict, llm, deadline, profile), streamed
            )
        with timer("finish"):
            answer = self._finish(question, search, retrieval, verdict, draft, llm, notices, fallback)
            answer = dataclasses.replace(answer, profile=profile)
        if not streamed:
            yield Delta(answer.text)  # written in one piece
        timings = timer.timings()
        if not history:
            timings.pop("condense", None)
        yield Final(dataclasses.replace(answer, timings_ms=timings, index_version=version))

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

    def _read(self, question: Question, retrieval: Retrieval, vocabulary: Vocabulary) -> Retrieval:
        """read: the reader scores every passage; they are reranked by its score (retrieval order breaks ties)."""
        if self.reader is None or not retrieval.passages:
            return retrieval
        readings = self.reader.read(question, retrieval.passages, vocabulary)
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
        profile: Profile | None = None,
    ) -> Generator[Progress, None, Draft]:
        """draft: the answerer's cited text; the model is only ever asked when the corpus can support an answer."""
        if not verdict.sufficient:
            return Draft("", (), refused=True)
        if llm is None:
            return self.extractive.answer(question, retrieval.passages, retrieval.readings, profile)
        return (yield from llm.stream(question, retrieval.passages, deadline, profile))

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
