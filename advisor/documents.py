"""Documents added and removed through the web page: convert, validate, store under HOME/uploads, re-index.

No Gradio here. An upload becomes a Markdown file with front matter, named by a generated id (never by the
uploaded file's name), written to a hidden temp file first and checked with the same loader the index
uses; only then is it moved into place and ingested. A failed upload leaves the index as it was.
"""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

import yaml

from .ingest.load import LoadError, decode_text, load_file
from .text import detect_lang

if TYPE_CHECKING:
    from .core import Advisor
    from .index.indexer import ProgressFactory

ALLOWED_SUFFIXES = (".txt", ".md", ".pdf", ".docx", ".html", ".htm")
UPLOAD_ID = re.compile(r"^upload-[0-9a-f]{12}$")
_FRONT_MATTER = re.compile(r"\A\ufeff?---\r?\n.*?\r?\n---\r?\n", re.DOTALL)
_BLANK_RUNS = re.compile(r"\n{3,}")


class UploadError(ValueError):
    """An upload that was refused; the message says why, in words a user can act on."""


@dataclass(frozen=True)
class UploadResult:
    doc_id: str
    title: str
    original_name: str
    lang: str
    chunks: int


@dataclass(frozen=True)
class DocumentRow:
    """One document as the page lists it; only uploads can be removed from the page."""

    doc_id: str
    title: str
    languages: tuple[str, ...]
    chunks: int
    source_file: str
    removable: bool


def display_name(raw_name: str) -> str:
    """The bare file name of an upload, for display only (a browser may send 'C:\\x\\a.pdf' or '../../a')."""
    name = PurePath(raw_name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:120] if name.strip(".") else "document"


# --- text extraction ---------------------------------------------------------------------------------
def _decode_text(raw: bytes) -> str:
    try:
        return decode_text(raw)
    except LoadError as exc:
        raise UploadError(str(exc)) from None


def _pdf_text(path: Path) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            raise UploadError("the PDF is encrypted; remove the password and try again")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
    except (PdfReadError, ValueError, KeyError, OSError) as exc:
        if isinstance(exc, UploadError):
            raise
        raise UploadError(f"the PDF cannot be read ({exc})") from exc
    return "\n\n".join(p.strip() for p in pages if p.strip()), title


def _docx_text(path: Path) -> tuple[str, str]:
    import zipfile

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError, OSError) as exc:
        raise UploadError(f"the Word file cannot be read ({type(exc).__name__})") from exc
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells = [c.text.strip() for c in row.cells if c.text.strip()]
            if cells:
                paragraphs.append(" | ".join(cells))
    return "\n\n".join(paragraphs), str(document.core_properties.title or "")


def _html_text(path: Path) -> tuple[str, str]:
    import trafilatura

    html = _decode_text(path.read_bytes())
    text = trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True) or ""
    meta = trafilatura.extract_metadata(html)
    return text, str(getattr(meta, "title", "") or "")


def extract_text(path: Path, suffix: str) -> tuple[str, str]:
    """(plain text, title if the file names one) of a supported file; UploadError if it cannot be read."""
    if suffix == ".pdf":
        return _pdf_text(path)
    if suffix == ".docx":
        return _docx_text(path)
    if suffix in (".html", ".htm"):
        return _html_text(path)
    text = _decode_text(path.read_bytes())
    return _FRONT_MATTER.sub("", text, count=1), ""


def _normalise(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip() + "\n"


def _title(text: str, found: str, original: str) -> str:
    if found.strip():
        return found.strip()[:120]
    first = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "")
    return first if 0 < len(first) <= 80 else PurePath(original).stem[:120] or "document"


def to_markdown(doc_id: str, title: str, original_name: str, lang: str, body: str) -> str:
    """The stored form of an upload: YAML front matter (safely quoted) and the extracted text."""
    meta = {
        "id": doc_id,
        "title": title,
        "languages": [lang],
        "kind": "upload",
        "source": "uploaded through the web page",
        "source_file": original_name,
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n{body}"


# --- the library ------------------------------------------------------------------------------------
class DocumentLibrary:
    """Add and remove uploaded documents; list everything in the index.

    Uploads are embedded by a second Advisor over the same index and models, so questions answered by
    `advisor` keep running during a long upload; `advisor` then picks up the change with a quick re-sync.
    """

    def __init__(self, advisor: Advisor, writer: Advisor | None = None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.uploads_dir = advisor.settings.uploads_dir
        self._writer = writer
        self._lock = threading.Lock()  # one change to the document set at a time

    @property
    def writer(self) -> Advisor:
        if self._writer is None:
            from .core import Advisor

            self._writer = Advisor(self.settings, embedders=self.advisor.embedders)
        return self._writer

    def documents(self) -> list[DocumentRow]:
        return [
            DocumentRow(
                s.doc_id,
                s.title,
                s.languages,
                s.chunks,
                s.source_file,
                self._upload_path(s.doc_id) is not None,
            )
            for s in self.advisor.sources()
        ]

    def _upload_path(self, doc_id: str) -> Path | None:
        """The stored file of an uploaded document, or None (corpus documents and unknown ids)."""
        if not UPLOAD_ID.match(doc_id):
            return None
        path = self.uploads_dir / f"{doc_id}.md"
        return path if path.is_file() else None

    def check(self, path: Path, original_name: str) -> None:
        """Refuse wrong types and oversize files before any work is done."""
        suffix = PurePath(original_name).suffix.lower()
        if suffix not in ALLOWED_SUFFIXES:
            raise UploadError(
                f"{original_name}: unsupported file type {suffix or '(none)'}; use {', '.join(ALLOWED_SUFFIXES)}"
            )
        limit = self.settings.max_upload_mb * 1024 * 1024
        size = path.stat().st_size
        if size > limit:
            raise UploadError(
                f"{original_name}: {size / 1024 / 1024:.1f} MB is over the {self.settings.max_upload_mb} MB limit"
            )
        if size == 0:
            raise UploadError(f"{original_name}: the file is empty")

    def add(
        self,
        path: Path,
        original_name: str | None = None,
        progress: ProgressFactory | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> UploadResult:
        """Convert, validate, store and index one uploaded file; UploadError (index unchanged) if it fails."""
        name = display_name(original_name or path.name)
        stage = on_stage or (lambda _: None)
        self.check(path, name)
        stage("reading")
        try:
            text, found_title = extract_text(path, PurePath(name).suffix.lower())
        except UploadError as exc:
            raise UploadError(f"{name}: {exc}") from exc
        body = _normalise(text)
        if len(body.strip()) < 2:
            raise UploadError(f"{name}: no text found in the file (a scanned PDF needs OCR first)")
        doc_id = f"upload-{uuid.uuid4().hex[:12]}"
        lang = detect_lang(body)
        title = _title(body, found_title, name)

        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        final = self.uploads_dir / f"{doc_id}.md"
        temp = self.uploads_dir / f".{doc_id}.md"  # hidden: never picked up by an ingest
        with self._lock:
            try:
                temp.write_text(to_markdown(doc_id, title, name, lang, body), encoding="utf-8")
                try:
                    load_file(temp)  # exactly as the index will load it
                except LoadError as exc:
                    raise UploadError(f"{name}: {exc}") from exc
                os.replace(temp, final)
                stage("indexing")
                try:
                    report = self.writer.ingest(progress=progress)
                except Exception:
                    self._rollback(final)
                    raise
                if any(final.name in line for line in report.failed):
                    self._rollback(final)
                    raise UploadError(f"{name}: the document could not be indexed")
            finally:
                temp.unlink(missing_ok=True)
            self.advisor.ingest()  # nothing left to embed: picks up the new chunks for questions
        chunks = next((s.chunks for s in self.advisor.sources() if s.doc_id == doc_id), 0)
        return UploadResult(doc_id, title, name, lang, chunks)

    def _rollback(self, final: Path) -> None:
        final.unlink(missing_ok=True)
        self.writer.ingest()

    def remove(self, doc_id: str) -> str:
        """Delete an uploaded document and its chunks; returns its title. Corpus documents are refused."""
        with self._lock:
            path = self._upload_path(doc_id)
            if path is None:
                known = {s.doc_id: s.title for s in self.advisor.sources()}
                if doc_id in known:
                    raise UploadError(f"{known[doc_id]}: documents from the corpus cannot be removed here")
                raise UploadError(f"no uploaded document with id {doc_id!r}")
            title = next((s.title for s in self.advisor.sources() if s.doc_id == doc_id), doc_id)
            path.unlink()
            self.writer.ingest()
            self.advisor.ingest()
        return title
