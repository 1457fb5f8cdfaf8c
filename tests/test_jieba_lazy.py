"""jieba fed a text's worth of its dictionary at a time (jieba_lazy.py) cuts exactly as jieba loaded whole."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import jieba
import numpy as np
import pytest

from advisor.jieba_lazy import LazyWords, build_arrays, open_arrays
from advisor.text import fold

REPO = Path(__file__).resolve().parent.parent
TRICKY = [
    "我们园区企业很多但产值上不去，怎么办？",
    "How is 产业集群 defined in Wenzhou's lighter cluster (温州打火机)?",
    "產業集群與產業集聚有何不同？B超、T恤、A股和X光",
    "2023年GDP增长5.2%，R&D投入1.2-1.8倍；iPhone代工厂富士康",
    "中华人民共和国国务院办公厅关于促进中小企业专精特新发展的若干意见",
]


@pytest.fixture(scope="module")
def whole() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


@pytest.fixture
def arrays(whole: jieba.Tokenizer, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, int]:
    paths = (tmp_path / "k.npy", tmp_path / "f.npy", tmp_path / "t.txt")
    build_arrays(whole.FREQ, whole.total, paths)
    got = open_arrays(paths)
    assert got is not None
    return got


def _texts() -> list[str]:
    texts = list(TRICKY)
    for name in ("golden.jsonl", "test.jsonl", "client.jsonl"):
        for line in (REPO / "evals" / name).read_text("utf-8").splitlines():
            texts.append(json.loads(line)["question"])
    for folder in (REPO / "corpus", REPO / "evals" / "external" / "xquad-rag-dev" / "corpus"):
        texts.extend(p.read_text("utf-8") for p in sorted(folder.glob("*.md"))[:40])
    return texts


def test_cuts_equal_jiebas_own(whole: jieba.Tokenizer, arrays: tuple[np.ndarray, np.ndarray, int]) -> None:
    lazy_tokenizer = jieba.Tokenizer()
    lazy = LazyWords(lazy_tokenizer, *arrays, full_after=10**9)
    texts = _texts()
    assert len(texts) > 200
    for text in texts:
        for form in (text, fold(text)):
            lazy.prepare(form)
            assert lazy_tokenizer.lcut(form) == whole.lcut(form), form[:80]
    assert not lazy.full and 0 < len(lazy_tokenizer.FREQ) < len(whole.FREQ) / 4  # only what the texts needed
    assert lazy.get("产业") == whole.FREQ["产业"] and lazy.get("産業産業") is None
    prefix = next(k for k, v in whole.FREQ.items() if v == 0 and len(k) >= 3)
    assert lazy.get(prefix) == 0  # a prefix of a word is a key without a count, as in jieba


def test_after_enough_text_the_whole_dictionary_is_loaded(arrays: tuple[np.ndarray, np.ndarray, int]) -> None:
    tokenizer = jieba.Tokenizer()
    lazy = LazyWords(tokenizer, *arrays, full_after=50)
    lazy.prepare("产业集群")
    assert not lazy.full and len(tokenizer.FREQ) < 100
    lazy.prepare("园区" * 30)
    assert lazy.full and len(tokenizer.FREQ) > 300_000
    assert tokenizer.lcut("园区企业很多") == jieba.Tokenizer().lcut("园区企业很多")


def test_arrays_of_the_wrong_shape_are_not_used(tmp_path: Path) -> None:
    paths = (tmp_path / "k.npy", tmp_path / "f.npy", tmp_path / "t.txt")
    np.save(paths[0], np.array(["a", "b"]))  # not the fixed width the lookups need
    np.save(paths[1], np.array([1, 2]))
    paths[2].write_text("3", encoding="ascii")
    assert open_arrays(paths) is None
    paths[2].write_text("not a number", encoding="ascii")
    assert open_arrays(paths) is None
    assert open_arrays((tmp_path / "none.npy", *paths[1:])) is None
