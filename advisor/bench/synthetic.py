"""A synthetic bilingual corpus recombined from the real one, clearly marked as synthetic.

Sentences of real chunks are shuffled into new chunks of the same language, so text statistics (length,
vocabulary, script mix) stay realistic while the corpus grows to any size. Vectors for synthetic chunks
can be derived from the real chunks' vectors instead of encoding 100k chunks (over an hour on 2 cores).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

from ..embed.base import normalise_rows
from ..schema import Chunk, Lang
from ..text import split_sentences

CHUNKS_PER_DOC = 20


def synthetic_chunks(real: Sequence[Chunk], n: int, seed: int = 13) -> tuple[list[Chunk], list[list[str]]]:
    """n synthetic chunks, and for each the ids of the real chunks its sentences came from."""
    rng = random.Random(seed)
    pools: dict[str, list[tuple[str, str]]] = {}
    for chunk in real:
        for sentence in split_sentences(" ".join(chunk.text.split())):
            pools.setdefault(chunk.lang, []).append((sentence, chunk.chunk_id))
    languages: list[Lang] = [c.lang for c in real]
    chunks: list[Chunk] = []
    origins: list[list[str]] = []
    for k in range(n):
        lang: Lang = rng.choice(languages)
        picked = rng.sample(pools[lang], k=min(len(pools[lang]), rng.randint(2, 4)))
        joiner = "" if lang == "zh" else " "
        doc = k // CHUNKS_PER_DOC
        chunks.append(
            Chunk(
                chunk_id=f"synthetic-{doc:05d}:{k % CHUNKS_PER_DOC:03d}",
                doc_id=f"synthetic-{doc:05d}",
                title=f"Synthetic document {doc} (benchmark only)",
                lang=lang,
                text=joiner.join(s for s, _ in picked),
                position=k % CHUNKS_PER_DOC,
                path=f"synthetic/{doc:05d}.md",
                line_start=k % CHUNKS_PER_DOC + 1,
                line_end=k % CHUNKS_PER_DOC + 1,
                kind="synthetic",
            )
        )
        origins.append([cid for _, cid in picked])
    return chunks, origins


def derived_vectors(
    origins: Sequence[Sequence[str]], real_vectors: dict[str, np.ndarray], noise: float = 0.02, seed: int = 13
) -> np.ndarray:
    """A vector per synthetic chunk: the normalised mean of its source chunks' vectors, plus a little noise."""
    rng = np.random.default_rng(seed)
    rows = np.stack([np.mean([real_vectors[c] for c in source], axis=0) for source in origins])
    rows = rows + rng.normal(0.0, noise, size=rows.shape).astype(np.float32)
    return normalise_rows(rows)


def as_markdown_documents(chunks: Sequence[Chunk]) -> dict[str, str]:
    """File name → Markdown text with front matter, one paragraph per chunk (for the ingest benchmark)."""
    docs: dict[str, list[Chunk]] = {}
    for chunk in chunks:
        docs.setdefault(chunk.doc_id, []).append(chunk)
    files: dict[str, str] = {}
    for doc_id, members in docs.items():
        front = f"---\nid: {doc_id}\ntitle: {members[0].title}\nkind: synthetic\n---\n"
        files[f"{doc_id}.md"] = front + "\n\n".join(c.text for c in members) + "\n"
    return files
