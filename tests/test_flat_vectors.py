"""Each version's flat vectors (index/flat.py): the cold start's dense search, equal to Chroma's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.index.flat import FlatVectors, flat_path, write_flat
from advisor.schema import Question

REPO = Path(__file__).resolve().parent.parent
NOTE = "---\nid: {id}\ntitle: 光谷笔记\nlanguages: [zh]\nkind: upload\n---\n光谷园区设立了共享检测平台，为中小企业提供检测服务。\n"


def _questions(limit: int = 40) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "evals" / "golden.jsonl").read_text("utf-8").splitlines()]
    return [r["question"] for r in rows][:limit]


def _advisor(home: Path, corpus: Path) -> Advisor:
    return Advisor(Settings(home=home, corpus_dir=corpus, index_check_s=0.0), embedders=[HashEmbedder()])


def test_a_flat_search_ranks_within_a_language_best_first() -> None:
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(50, 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    ids = [f"c{i}" for i in range(50)]
    langs = ["zh" if i % 3 else "en" for i in range(50)]
    flat = FlatVectors(matrix, ids, langs)
    query = matrix[7] * 3.0  # not unit length: still a cosine
    hits = flat.search(query, 5, "zh")
    assert hits[0] == ("c7", pytest.approx(1.0, abs=1e-6))
    assert all(langs[int(cid[1:])] == "zh" for cid, _ in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    expected = sorted(
        (i for i in range(50) if langs[i] == "zh"), key=lambda i: -float(matrix[i] @ matrix[7])
    )[:5]
    assert [cid for cid, _ in hits] == [f"c{i}" for i in expected]
    assert len(flat.search(query, 500, "en")) == langs.count("en")
    assert flat.search(query, 5, "fr") == [] and len(flat.search(query, 3)) == 3
    with pytest.raises(ValueError):
        FlatVectors(matrix[:10], ids, langs)


def test_vector_files_have_safe_names(tmp_path: Path) -> None:
    write_flat(tmp_path, "e5-small", np.ones((2, 3)))
    assert flat_path(tmp_path, "e5-small").is_file()
    for bad in ("../x", "a/b", ".hidden", ""):
        with pytest.raises(ValueError):
            flat_path(tmp_path, bad)


def test_every_version_stores_its_vectors_row_for_row(isolated_home: Path, corpus_copy: Path) -> None:
    advisor = _advisor(isolated_home, corpus_copy)
    advisor.ingest()
    store = advisor.index.vectors()[0]
    key = store.embedder.key

    def check() -> FlatVectors:
        snapshot = advisor.index.snapshot()
        flat = snapshot.flat(key)
        assert flat is not None and len(flat.matrix) == len(snapshot.chunks)
        records = snapshot.chunks.records
        assert records is not None
        stored = store.vectors_of(records)
        for row, record in enumerate(records):
            assert np.allclose(flat.matrix[row], stored[record], atol=1e-6)
        return flat

    before = len(check().matrix)
    advisor.add_document("guanggu-note", NOTE.format(id="guanggu-note"))
    assert len(check().matrix) > before  # the new document's rows, the others carried over
    advisor.remove_document("guanggu-note")
    assert len(check().matrix) == before


def test_a_cold_process_searches_the_flat_file_as_chroma_would(
    isolated_home: Path, corpus_copy: Path
) -> None:
    _advisor(isolated_home, corpus_copy).ingest()
    cold = _advisor(isolated_home, corpus_copy)
    snapshot = cold.index.snapshot()
    dense = cold.index.dense(snapshot)[0]
    assert dense.flat is not None and not cold.index.dense_warm
    questions = _questions()
    flat_hits = [
        dense.search(dense.embedder.embed_query(q), 10, lang) for q in questions for lang in ("zh", "en")
    ]
    cold.index.warm_dense()  # from now on the same object asks Chroma
    store_hits = [
        dense.search(dense.embedder.embed_query(q), 10, lang) for q in questions for lang in ("zh", "en")
    ]
    for flat, store in zip(flat_hits, store_hits, strict=True):
        # The hash embedder's cosines tie often, and ties may come in either order: same scores, same
        # chunks above the last score (the real encoders' rankings are compared exactly below).
        assert np.allclose([s for _, s in flat], [s for _, s in store], atol=1e-5)
        cut = flat[-1][1] + 1e-5
        assert {c for c, s in flat if s > cut} == {c for c, s in store if s > cut}


def test_a_version_without_vectors_is_searched_in_chroma_and_written_on_the_next_ingest(
    isolated_home: Path, corpus_copy: Path
) -> None:
    advisor = _advisor(isolated_home, corpus_copy)
    advisor.ingest()
    folder = advisor.index.snapshots.root / f"v{advisor.index.version():08d}"
    key = advisor.embedders[0].key
    flat_path(folder, key).unlink()  # a version written before vectors were stored
    cold = _advisor(isolated_home, corpus_copy)
    assert cold.index.dense(cold.index.snapshot())[0].flat is None
    assert cold.retrieve(Question("义乌小商品城", "zh")).passages  # Chroma answers
    report = cold.ingest()
    assert report.version == 2  # written again, once, to store the vectors
    assert cold.ingest().version == 2  # and then nothing changed
    assert flat_path(advisor.index.snapshots.root / f"v{report.version:08d}", key).is_file()


def test_a_cold_question_never_imports_chroma(isolated_home: Path, corpus_copy: Path) -> None:
    _advisor(isolated_home, corpus_copy).ingest()
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from advisor.config import Settings\n"
        "from advisor.core import Advisor\n"
        "from advisor.embed.fake import HashEmbedder\n"
        f"a = Advisor(Settings(home=Path({str(isolated_home)!r}), corpus_dir=Path({str(corpus_copy)!r})),"
        " embedders=[HashEmbedder()])\n"
        "answer = a.ask('产业集聚和产业集群有什么区别？')\n"
        "assert answer.citations, answer\n"
        "print('chromadb' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_bundled_encoders_rank_alike_in_the_flat_file_and_chroma(real_advisor: Advisor) -> None:
    snapshot = real_advisor.index.snapshot()
    assert real_advisor.index.dense_warm  # the fixture warmed up: its searches go to Chroma
    for position, store in enumerate(real_advisor.index.vectors()):
        flat = snapshot.flat(store.embedder.key)
        assert flat is not None
        for question in _questions():
            vector = store.embedder.embed_query(question)
            for lang in ("zh", "en"):
                ours, chroma = flat.search(vector, 30, lang), store.search(vector, 30, lang)
                assert [c for c, _ in ours] == [c for c, _ in chroma], (position, question, lang)
                assert np.allclose([s for _, s in ours], [s for _, s in chroma], atol=1e-5)
