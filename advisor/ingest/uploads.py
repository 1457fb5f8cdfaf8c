"""Where a passage of an uploaded document is, said the way its uploader knows it: the file's name and page.

An upload is stored as `upload-<id>.md` with front matter naming the original file (`source_file`) and, for
a PDF, where each page starts in the stored text (`pages: "1:0 2:14 …"`, page number : body line). Passages
of uploads are then located as "report.pdf, p. 3" instead of `uploads/upload-<id>.md:40-42`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..schema import Chunk

UPLOAD_ID = re.compile(r"^upload-[0-9a-f]{12}$")
_BLANK_RUNS = re.compile(r"\n{3,}")
HEAD_LIMIT = 512 * 1024  # front matter read of an upload: a 2,000-page PDF's page list fits well within it


@dataclass(frozen=True)
class StoredUpload:
    """What locating needs of one stored upload: its original name, its page starts, its body's offset."""

    name: str
    pages: tuple[tuple[int, int], ...]  # (page number, first body line), in order
    body_offset: int  # lines of front matter before the body

    def page_at(self, file_line: int) -> int | None:
        """The page holding a 1-based line of the stored file; None without pages."""
        body_line = file_line - 1 - self.body_offset
        found = None
        for page, first in self.pages:
            if first > body_line:
                break
            found = page
        return found

    def place(self, line_start: int, line_end: int) -> str:
        first, last = self.page_at(line_start), self.page_at(line_end)
        if first is None:
            return self.name
        if last is None or last == first:
            return f"{self.name}, p. {first}"
        return f"{self.name}, pp. {first}–{last}"


def page_marks(pages: Sequence[tuple[int, int]]) -> str:
    """The front-matter form of page starts: '1:0 2:14'."""
    return " ".join(f"{page}:{line}" for page, line in pages)


def normalise_body(text: str) -> str:
    """Text as an upload stores it: Unix line ends, no NULs or trailing spaces, blank runs cut to one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"


def paged_body(pages: Sequence[str]) -> tuple[str, str]:
    """A PDF's stored body, its pages in order, and where each page starts in it (front-matter `pages`)."""
    parts: list[str] = []
    marks: list[tuple[int, int]] = []
    line = 0
    for number, text in enumerate(pages, 1):
        page = normalise_body(text).strip()
        if page:
            marks.append((number, line))
            parts.append(page)
            line += page.count("\n") + 2  # its lines, then the blank line between pages
    return "\n\n".join(parts) + "\n", page_marks(marks)


def _parse_marks(value: object) -> tuple[tuple[int, int], ...]:
    marks = []
    for item in str(value or "").split():
        page, _, line = item.partition(":")
        if page.isdigit() and line.isdigit():
            marks.append((int(page), int(line)))
    return tuple(marks)


def read_stored(path: Path) -> StoredUpload | None:
    """The locating facts of a stored upload; None when it is missing or has no front matter."""
    try:
        with path.open(encoding="utf-8") as handle:
            head = handle.read(HEAD_LIMIT)
    except OSError:
        return None
    lines = head.split("\n")
    if not lines or lines[0].strip("\ufeff").strip() != "---":
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        return None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict):
        return None
    name = str(meta.get("source_file") or path.name)
    return StoredUpload(name, _parse_marks(meta.get("pages")), end + 1)


class UploadPlaces:
    """A chunk → the same chunk, shown by its uploaded file's name and page when it comes from an upload."""

    def __init__(self, uploads_dir: Path) -> None:
        self.uploads_dir = uploads_dir
        self._stored: dict[str, StoredUpload | None] = {}

    def __call__(self, chunk: Chunk) -> Chunk:
        if not UPLOAD_ID.match(chunk.doc_id):
            return chunk
        if chunk.doc_id not in self._stored:
            self._stored[chunk.doc_id] = read_stored(self.uploads_dir / f"{chunk.doc_id}.md")
        upload = self._stored[chunk.doc_id]
        shown = upload.place(chunk.line_start, chunk.line_end) if upload else ""
        return dataclasses.replace(chunk, shown_as=shown) if shown else chunk
