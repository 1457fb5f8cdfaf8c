"""The source registry: which roots an index is built from (the corpus, uploads, folders added by hand)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path


class SourceRegistry:
    """The corpus, the uploads folder and the extra roots remembered from `advisor ingest PATH`."""

    def __init__(self, index_dir: Path, corpus_dir: Path, uploads_dir: Path | None = None) -> None:
        self.index_dir = index_dir
        self.corpus_dir = corpus_dir
        self.uploads_dir = uploads_dir

    @property
    def _registry(self) -> Path:
        return self.index_dir / "sources.json"

    def extra_roots(self) -> list[Path]:
        """Files and folders added with `advisor ingest PATH`, remembered between runs."""
        if not self._registry.is_file():
            return []
        return [Path(p) for p in json.loads(self._registry.read_text(encoding="utf-8"))]

    def remember(self, roots: Sequence[Path]) -> None:
        """Add roots to the registry (written atomically: a reader never sees half a file)."""
        known = {str(p) for p in self.extra_roots()}
        known.update(str(p.resolve()) for p in roots)
        self._write(sorted(known))

    def forget(self, root: Path) -> bool:
        """Drop a remembered source root (the next ingest removes its documents)."""
        roots = [str(p) for p in self.extra_roots()]
        target = str(root.resolve())
        if target not in roots:
            return False
        roots.remove(target)
        self._write(roots)
        return True

    def _write(self, roots: list[str]) -> None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        tmp = self._registry.with_suffix(".tmp")
        tmp.write_text(json.dumps(roots, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(self._registry)

    def roots(self) -> list[Path]:
        """Every root the index is built from: the corpus, uploaded documents, then remembered extras that exist."""
        roots = [self.corpus_dir]
        if self.uploads_dir is not None and self.uploads_dir.is_dir():
            roots.append(self.uploads_dir)
        return [*roots, *(p for p in self.extra_roots() if p.exists() and p not in roots)]
