"""jieba's word list, read a text at a time from a memory-mapped file instead of loaded whole.

jieba cuts a text with a dict of ~500k words and word prefixes (`Tokenizer.FREQ`), which it unmarshals
whole on first use: 0.6–1.3 s on these machines, the largest single cost left in a cold `advisor ask`
(bench/results/PROFILE.md). It only ever looks up *substrings of the text it is cutting*, so a dict that
holds every such substring jieba's own dict holds cuts exactly alike. `LazyWords` keeps the word list as a
sorted, memory-mapped array and, before each cut, adds the text's substrings found there to the tokenizer's
dict; jieba's dict is prefix-closed (every prefix of a word is a key), so substrings are looked up one
length at a time, only where the shorter one was found. After `full_after` characters (an ingest, a
long-lived worker) it loads jieba's whole dict once, as jieba would have.

The array is built once from jieba's own cache and kept beside it (a temp folder, keyed by the dictionary
file's size and time, read only when this user wrote it); tests/test_jieba_lazy.py checks the cuts are
jieba's own on the corpus and the evals' questions.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np

MAX_KEY = 16  # the longest key of jieba's dictionary (checked when the array is built)


def _cache_paths(jieba: Any) -> tuple[Path, Path, Path] | None:
    source = Path(jieba.__file__).parent / "dict.txt"
    try:
        stat = source.stat()
    except OSError:
        return None
    uid = os.getuid() if hasattr(os, "getuid") else 0
    stem = Path(tempfile.gettempdir()) / f"advisor-jieba-{uid}-{stat.st_size}-{int(stat.st_mtime)}"
    return stem.with_suffix(".keys.npy"), stem.with_suffix(".freq.npy"), stem.with_suffix(".total")


def build_arrays(freq: dict[str, int], total: int, paths: tuple[Path, Path, Path]) -> None:
    """Write the sorted keys, their counts and the total (from a fully loaded jieba)."""
    keys = np.array(sorted(k for k in freq if 0 < len(k) <= MAX_KEY), dtype=f"<U{MAX_KEY}")
    counts = np.array([freq[str(k)] for k in keys], dtype=np.int64)
    for path, array in zip(paths[:2], (keys, counts), strict=True):
        staging = path.with_suffix(f".{os.getpid()}.tmp")
        with staging.open("wb") as handle:
            np.save(handle, array)
        os.replace(staging, path)
    staging = paths[2].with_suffix(f".{os.getpid()}.tmp")
    staging.write_text(repr(total), encoding="ascii")
    os.replace(staging, paths[2])


def open_arrays(paths: tuple[Path, Path, Path]) -> tuple[np.ndarray, np.ndarray, int] | None:
    """The memory-mapped keys and counts and the total, when this user wrote them; else None."""
    try:
        uid = os.getuid() if hasattr(os, "getuid") else 0
        if any(p.stat().st_uid != uid for p in paths):  # a shared temp folder: read only our own files
            return None
        keys = np.load(paths[0], mmap_mode="r")
        counts = np.load(paths[1], mmap_mode="r")
        total = int(paths[2].read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    if keys.dtype != np.dtype(f"<U{MAX_KEY}") or len(keys) != len(counts) or not len(keys):
        return None
    return keys, counts, total


class LazyWords:
    """Feeds a jieba tokenizer the dictionary entries each text needs, then the whole dictionary later."""

    def __init__(
        self, tokenizer: Any, keys: np.ndarray, counts: np.ndarray, total: int, full_after: int
    ) -> None:
        self.tokenizer = tokenizer
        self.keys = keys
        self.counts = counts
        self.full_after = full_after
        self.seen = 0  # characters prepared so far
        self.full = False
        self._lock = threading.Lock()
        tokenizer.FREQ = {}
        tokenizer.total = total
        tokenizer.initialized = True  # jieba would otherwise load its whole dict on the first cut

    def prepare(self, text: str) -> None:
        """Make sure the tokenizer's dict holds every entry a cut of `text` can look up."""
        if self.full:
            return
        self.seen += len(text)
        if self.seen > self.full_after:
            self.load_full()
            return
        found: dict[str, int] = {}
        alive: list[int] = list(
            range(len(text))
        )  # start positions whose substring of the last length was a key
        for length in range(1, MAX_KEY + 1):
            wanted = {text[k : k + length] for k in alive if k + length <= len(text)}
            if not wanted:
                break
            hits = self._lookup(sorted(wanted))
            found.update(hits)
            alive = [k for k in alive if text[k : k + length] in hits]
        self.tokenizer.FREQ.update(found)

    def _lookup(self, candidates: list[str]) -> dict[str, int]:
        probe = np.array(candidates, dtype=f"<U{MAX_KEY}")
        at = np.searchsorted(self.keys, probe)
        at = np.minimum(at, len(self.keys) - 1)
        hit = self.keys[at] == probe
        return {candidates[i]: int(self.counts[at[i]]) for i in np.flatnonzero(hit)}

    def get(self, word: str) -> int | None:
        """The dictionary's count for `word` (0 for a prefix that is no word), or None when absent."""
        if not self.full and 0 < len(word) <= MAX_KEY:
            self.prepare(word)
        value = self.tokenizer.FREQ.get(word)
        return int(value) if value is not None else None

    def load_full(self) -> None:
        """Load jieba's whole dictionary (what jieba does on its own): for ingests and long-lived processes."""
        with self._lock:
            if self.full:
                return
            self.tokenizer.initialized = False
            self.tokenizer.initialize()
            self.full = True


def lazy_words(jieba: Any, full_after: int = 200_000) -> LazyWords | None:
    """A `LazyWords` for jieba's default tokenizer, building its arrays on the first run (that run loads
    jieba whole, as before); None when the arrays cannot be had (jieba then loads as usual)."""
    paths = _cache_paths(jieba)
    if paths is None:
        return None
    arrays = open_arrays(paths)
    if arrays is None:
        jieba.initialize()
        try:
            build_arrays(jieba.dt.FREQ, jieba.dt.total, paths)
        except OSError:  # an unwritable temp folder: jieba as usual
            return None
        return None  # this process already holds the whole dictionary
    return LazyWords(jieba.dt, *arrays, full_after=full_after)
