"""Language-aware hybrid retrieval: dense (e5, USE) and BM25 ranked per language, then rank-fused.

Dense encoders prefer passages in the question's own language, and BM25 only matches the question's
language at all. Ranking each language separately and fusing ranks lets the best Chinese passage compete
with the best English one on equal terms. A Chinese passage and its English translation count as one
result, shown in the question's language with the other side attached as `parallel_text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np

from ..embed.base import Embedder
from ..index.table import ChunkTable
from ..schema import Channel, Chunk, Lang, Passage, Retrieval, Trace
from .lexical import LexicalIndex

Mode = Literal["hybrid", "dense", "bm25"]


class DenseIndex(Protocol):
    """What retrieval needs from a vector collection."""

    embedder: Embedder

    def search(self, vector: np.ndarray, k: int, lang: str | None = None) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class FusionWeights:
    """How much each ranked list counts; `rrf_k` flattens (large) or sharpens (small) the rank curve."""

    dense: tuple[float, ...] = (1.0, 1.0)  # per dense index, in the order given to the retriever
    bm25: float = 0.6
    rrf_k: float = 8.0


class HybridRetriever:
    """Ranks chunks for a question by dense similarity and BM25, language by language, and fuses the ranks."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        dense: Sequence[DenseIndex],
        lexical: LexicalIndex,
        *,
        weights: FusionWeights | None = None,
        candidates: int = 30,
    ) -> None:
        self.chunks: Mapping[str, Chunk]
        if isinstance(chunks, ChunkTable):  # a stored version: rows decoded as questions reach them
            self.chunks = chunks.by_id()
            self.languages: tuple[str, ...] = tuple(sorted(set(chunks.langs)))
        else:
            self.chunks = {c.chunk_id: c for c in chunks}
            self.languages = tuple(sorted({c.lang for c in chunks}))
        self.dense = list(dense)
        self.lexical = lexical
        self.weights = weights or FusionWeights(dense=tuple(1.0 for _ in dense))
        self.candidates = candidates

    def retrieve(
        self,
        question: str,
        lang: Lang,
        k: int = 5,
        mode: Mode = "hybrid",
        exclude: frozenset[str] = frozenset(),
        explain: int = 0,
    ) -> Retrieval:
        """The k best passages for `question`, asked in `lang`; chunk ids in `exclude` are left out (evals).

        `explain` > 0 also records that many entries of every ranked list and of the fused ranking (the
        retrieval inspector); a question answered normally leaves it at 0 and records nothing.
        """
        if not self.chunks:
            return Retrieval(())
        # lists[language][source] = chunk ids, best first
        lists: dict[str, dict[str, list[str]]] = {}
        weights: dict[str, float] = {}
        best_cosine: dict[str, float] = {}
        cosines: dict[str, dict[str, float]] = {}  # encoder → chunk id → raw cosine, for the reader
        # (encoder, language) → mean and spread of the cosines below the best few: the question's background.
        background: dict[tuple[str, str], tuple[float, float]] = {}
        raw: dict[tuple[str, str], list[tuple[str, float]]] = {}  # (language, source) → scored list

        dense_indexes = self.dense if mode != "bm25" else []
        if mode == "dense":
            dense_indexes = self.dense[:1]
        for position, index in enumerate(dense_indexes):
            vector = index.embedder.embed_query(question)
            name = index.embedder.key
            weights[name] = self.weights.dense[position] if mode == "hybrid" else 1.0
            if mode == "dense":
                # The plain baseline: one encoder, one list over all languages, no language awareness.
                hits = [h for h in index.search(vector, self.candidates) if h[0] not in exclude]
                cosines.setdefault(name, {}).update(hits)
                best_cosine[name] = max((s for _, s in hits), default=0.0)
                lists.setdefault("*", {})[name] = [cid for cid, _ in hits]
                if explain:
                    raw[("*", name)] = hits[:explain]
                continue
            for chunk_lang in self.languages:
                hits = [
                    h for h in index.search(vector, self.candidates, lang=chunk_lang) if h[0] not in exclude
                ]
                cosines.setdefault(name, {}).update(hits)
                best_cosine[name] = max([best_cosine.get(name, -1.0), *(s for _, s in hits)])
                if len(hits) >= 10:
                    rest = np.array([value for _, value in hits[5:]])
                    background[(name, chunk_lang)] = (float(rest.mean()), float(rest.std()))
                lists.setdefault(chunk_lang, {})[name] = [cid for cid, _ in hits]
                if explain:
                    raw[(chunk_lang, name)] = hits[:explain]

        terms = tuple(self.lexical.query_terms(question))
        if mode in ("hybrid", "bm25") and terms:
            weights["bm25"] = self.weights.bm25 if mode == "hybrid" else 1.0
            scores = self.lexical.scores(question)
            order = _best_first(scores, self.candidates * 4 * max(len(self.languages), 1))
            for chunk_lang in self.languages:
                top = [
                    i
                    for i in order[: self.candidates * 4]
                    if scores[i] > 0
                    and self.chunks[self.lexical.chunk_ids[i]].lang == chunk_lang
                    and self.lexical.chunk_ids[i] not in exclude
                ][: self.candidates]
                if top:
                    lists.setdefault(chunk_lang, {})["bm25"] = [self.lexical.chunk_ids[i] for i in top]
                    if explain:
                        raw[(chunk_lang, "bm25")] = [
                            (self.lexical.chunk_ids[i], float(scores[i])) for i in top[:explain]
                        ]

        contributions, per_source = self._fuse(lists, weights)
        for name, by_chunk in cosines.items():
            floor = min(
                by_chunk.values(), default=0.0
            )  # not among an encoder's candidates: at most this close
            for chunk_id in contributions:
                partner = self.chunks[chunk_id].parallel_id if chunk_id in self.chunks else None
                best = max(by_chunk.get(chunk_id, floor), by_chunk.get(partner or "", floor))
                per_source.setdefault(chunk_id, {})[f"cos:{name}"] = round(best, 4)
                # How far it stands out of the question's background, in its own language (e5's cosines
                # run higher for Chinese than for English; a difference means the same in both).
                lifts = [
                    (by_chunk[cid] - background[(name, self.chunks[cid].lang)][0])
                    / max(background[(name, self.chunks[cid].lang)][1], 0.01)
                    for cid in (chunk_id, partner)
                    if cid in by_chunk
                    and cid in self.chunks  # another worker's upload this one has not loaded yet
                    and (name, self.chunks[cid].lang) in background
                ]
                if lifts:
                    per_source[chunk_id][f"z:{name}"] = round(max(lifts), 3)
        passages = self._to_passages(contributions, per_source, lang, k)
        trace = None
        if explain:
            channels = tuple(
                Channel(source, chunk_lang, weights[source], tuple((self.chunks[c], s) for c, s in hits))
                for (chunk_lang, source), hits in raw.items()
            )
            trace = Trace(channels, tuple(self._to_passages(contributions, per_source, lang, explain)))
        return Retrieval(tuple(passages), best_cosine, terms, trace=trace)

    def _fuse(
        self, lists: Mapping[str, Mapping[str, Sequence[str]]], weights: Mapping[str, float]
    ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
        """Weighted reciprocal-rank fusion within each language, scaled so 1.0 means first in every list.

        The scaling is what makes languages comparable: for an English question BM25 finds nothing in
        Chinese, and without it every English passage would start with a bonus no Chinese one can earn.
        """
        fused: dict[str, float] = {}
        per_source: dict[str, dict[str, float]] = {}
        for ranked_lists in lists.values():
            ceiling = sum(weights[source] / (self.weights.rrf_k + 1) for source in ranked_lists)
            for source, ranked in ranked_lists.items():
                for rank, chunk_id in enumerate(ranked):
                    value = weights[source] / (self.weights.rrf_k + rank + 1) / ceiling
                    fused[chunk_id] = fused.get(chunk_id, 0.0) + value
                    per_source.setdefault(chunk_id, {})[source] = round(value, 4)
        return fused, per_source

    def _to_passages(
        self,
        fused: Mapping[str, float],
        per_source: Mapping[str, dict[str, float]],
        lang: Lang,
        k: int,
    ) -> list[Passage]:
        """One passage per chunk or translation pair (scored by its better side), shown in the question's language."""
        units: dict[str, tuple[float, str]] = {}
        for chunk_id, score in fused.items():
            chunk = self.chunks.get(chunk_id)
            if chunk is None:
                continue
            key = min(chunk_id, chunk.parallel_id) if chunk.parallel_id else chunk_id
            if key not in units or score > units[key][0]:
                units[key] = (score, chunk_id)

        ranked = sorted(units.values(), key=lambda item: (-item[0], item[1]))[:k]
        passages: list[Passage] = []
        for score, chunk_id in ranked:
            chunk = self.chunks[chunk_id]
            partner = self.chunks.get(chunk.parallel_id) if chunk.parallel_id else None
            shown, other = chunk, partner
            if partner is not None and partner.lang == lang and chunk.lang != lang:
                shown, other = partner, chunk
            passages.append(
                Passage(
                    shown,
                    score,
                    other.text if other is not None else None,
                    dict(per_source.get(chunk_id, {})),
                )
            )
        return passages


def _best_first(scores: np.ndarray, n: int) -> np.ndarray:
    """Indexes of the `n` highest scores, best first (ties by index): a partial sort, since at 100k chunks a
    full `argsort` costs more than the BM25 scoring itself."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    top = np.argpartition(-scores, n - 1)[:n]
    return top[np.lexsort((top, -scores[top]))]
