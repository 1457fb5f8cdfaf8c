"""The lean BERT reader gives the same vectors as sentence-transformers on the bundled model folder."""

from __future__ import annotations

import numpy as np
import pytest

from advisor.embed.bert import BertMeanEncoder, is_plain_bert_folder
from advisor.embed.e5 import DEFAULT_MODEL_DIRNAME, ensure_e5_model

from .conftest import models_dir

pytestmark = pytest.mark.slow

TEXTS = [
    "query: 产业集聚和产业集群有什么区别？",
    "query: How do I tell an agglomeration from a real cluster?",
    "passage: 產業集群與產業集聚是區域經濟發展中兩個密切相關但內涵不同的概念。",
    "passage: "
    + "An industrial cluster refers to a geographical agglomeration. " * 80,  # longer than 512 tokens
    "passage: ok",
]


def test_fast_path_matches_sentence_transformers() -> None:
    from sentence_transformers import SentenceTransformer

    folder = ensure_e5_model(models_dir())
    assert folder.name == DEFAULT_MODEL_DIRNAME and is_plain_bert_folder(folder)
    lean = BertMeanEncoder(folder)
    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    ours = lean.encode(TEXTS)
    theirs = reference.encode(TEXTS, normalize_embeddings=True, convert_to_numpy=True)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    ids = reference.tokenizer(TEXTS, truncation=True, max_length=512)["input_ids"]
    assert lean.token_ids(TEXTS) == [list(x) for x in ids]
    # Batching and padding do not change a text's vector.
    alone = lean.encode([TEXTS[4]])[0]
    assert np.allclose(alone, ours[4], atol=1e-5)
    # Both engines give those vectors: numpy (questions, no torch import) and torch (ingest batches).
    for engine in ("numpy", "torch"):
        vectors = lean.encode(TEXTS, engine=engine)
        assert (vectors * theirs).sum(axis=1).min() >= 0.9999, engine
    # A server switches to torch for every batch (numpy's element-wise steps hold the GIL).
    fresh = BertMeanEncoder(folder)
    assert fresh._weights is None
    fresh.use_torch()
    assert fresh._weights is not None
    assert np.allclose(fresh.encode([TEXTS[0]])[0], theirs[0], atol=1e-4)


def test_a_question_is_encoded_without_importing_torch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    folder = ensure_e5_model(models_dir())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from advisor.embed.sentence_transformer import SentenceTransformerEmbedder\n"
        f"e = SentenceTransformerEmbedder(Path({str(folder)!r}))\n"
        "v = e.embed_query('产业集群是什么？')\n"
        "assert v.shape == (384,) and abs(float((v * v).sum()) - 1) < 1e-4\n"
        "print('torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_other_folders_are_not_taken_for_plain_bert(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert not is_plain_bert_folder(tmp_path)


def test_the_embedder_is_safe_to_share_between_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from advisor.embed.sentence_transformer import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(ensure_e5_model(models_dir()))
    texts = [f"产业集群的第{i}个问题 cluster question {i}" for i in range(24)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        together = list(pool.map(lambda t: embedder.embed_passages([t])[0], texts))
    alone = embedder.embed_passages(texts)
    assert np.allclose(np.stack(together), alone, atol=1e-5)


def test_the_lean_tokenizer_gives_the_same_ids_on_every_corpus_and_question_text() -> None:
    import json
    from pathlib import Path

    from tokenizers import Tokenizer

    from advisor.config import REPO_ROOT
    from advisor.embed.lean_vocab import lean_tokenizer_file

    folder = ensure_e5_model(models_dir())
    lean_file = lean_tokenizer_file(folder)
    assert lean_file is not None and lean_file.name == "tokenizer.lean.json"
    full, lean = Tokenizer.from_file(str(folder / "tokenizer.json")), Tokenizer.from_file(str(lean_file))
    vocab = json.loads(lean_file.read_text(encoding="utf-8"))["model"]["vocab"]
    assert sum(piece.startswith("\x00") for piece, _ in vocab) > 100_000  # pieces of other scripts
    texts = [
        line
        for path in sorted((REPO_ROOT / "corpus").glob("*.md"))
        + sorted((REPO_ROOT / "evals" / "external").rglob("*.md"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for path in [*sorted((REPO_ROOT / "evals").glob("*.jsonl"))]:
        texts += [
            json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line
        ]
    texts += ["µm Ω ±5% α-β ½ ℃ № ™ € ¥ ｘＡＢＣ　", "日本語のかなカナ", "Łódź Zürich São Paulo Nguyễn"]
    assert len(texts) > 600
    assert [e.ids for e in lean.encode_batch(texts)] == [e.ids for e in full.encode_batch(texts)]
    # The trade-off, stated: a word of a dropped script is <unk> to the lean tokenizer.
    assert lean.encode("Москва").ids != full.encode("Москва").ids
    assert Path(lean_file).stat().st_size < (folder / "tokenizer.json").stat().st_size
