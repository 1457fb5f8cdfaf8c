"""Turn .pdf, .docx, .html, .md and .txt files into plain text without letting a hostile file exhaust memory.

Uploads and `advisor ingest` share this path and its limits. Every budget is checked while reading, never
after: a .docx is refused on its declared sizes and compression ratio before anything is unpacked, and its
document XML is parsed as a stream through a byte-counting reader that stops at the budget (python-docx
would load the whole XML); a PDF is refused on its page count and read with pypdf's decompression limits
tightened, page by page against the text budget; an HTML page has its own, smaller size limit. Messages
name the user's file (never a temporary path) and the limit, in either language (`ConvertError.message`).
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import ConvertError

TEXT_SUFFIXES = (".md", ".txt")
CONVERTED_SUFFIXES = (".pdf", ".docx", ".html", ".htm")
SUFFIXES = TEXT_SUFFIXES + CONVERTED_SUFFIXES
MB = 1024 * 1024
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC_TITLE = "{http://purl.org/dc/elements/1.1/}title"
log = logging.getLogger(__name__)


class BudgetExceeded(Exception):
    """Raised inside a reader when more bytes came out than the budget allows."""


@dataclass(frozen=True)
class Limits:
    """What one file may cost. The defaults follow the upload limit; `advisor ingest` uses the same."""

    file_bytes: int = 20 * MB  # the file as given
    text_bytes: int = 20 * MB  # UTF-8 text extracted from it
    html_bytes: int = 5 * MB  # an HTML page is parsed into a tree: a tighter cap than plain text
    pdf_pages: int = 2000
    pdf_stream_bytes: int = 16 * MB  # one decompressed PDF stream (pypdf's own default is 75 MB)
    zip_ratio: int = 100  # uncompressed / compressed, per member; real .docx files stay under ~20
    zip_members: int = 2000

    @property
    def xml_bytes(self) -> int:
        """Decompressed .docx XML allowed: markup outweighs text, so ten times the text budget."""
        return 10 * self.text_bytes

    @classmethod
    def for_upload_mb(cls, mb: int) -> Limits:
        return cls(file_bytes=mb * MB, text_bytes=mb * MB)


@dataclass(frozen=True)
class Converted:
    """The plain text of a file and the title the file names itself (empty when it names none)."""

    text: str
    title: str = ""
    pages: tuple[str, ...] = ()  # a PDF's text page by page (`text` joins the pages that have any)


def _mb(n: int) -> str:
    return f"{n / MB:.1f}".rstrip("0").rstrip(".")


class CountingReader(io.RawIOBase):
    """A file-like view of `raw` that raises BudgetExceeded once more than `budget` bytes were read."""

    def __init__(self, raw: IO[bytes], budget: int) -> None:
        self.raw = raw
        self.budget = budget
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(64 * 1024 if size is None or size < 0 else min(size, 1024 * 1024))
        self.count += len(chunk)
        if self.count > self.budget:
            raise BudgetExceeded
        return chunk

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class TextBudget:
    """Collects extracted paragraphs and stops the reader as soon as their UTF-8 size passes the budget."""

    def __init__(self, name: str, limit: int) -> None:
        self.name = name
        self.limit = limit
        self.used = 0
        self.parts: list[str] = []

    def add(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        self.used += len(text.encode("utf-8")) + 2
        if self.used > self.limit:
            raise ConvertError("err_text_budget", name=self.name, limit=_mb(self.limit))
        self.parts.append(text)

    def text(self) -> str:
        return "\n\n".join(self.parts)


# --- plain text ----------------------------------------------------------------------------------------
def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 for older Chinese files; anything else is refused."""
    if b"\x00" in raw[:4096]:
        raise ConvertError("err_binary", name=name)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ConvertError("err_decode", name=name)


def _read_bytes(path: Path, name: str, limit: int) -> bytes:
    """At most `limit` bytes of the file: one that grew since it was checked is refused, not read whole."""
    with path.open("rb") as handle:
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise ConvertError("err_size", name=name, size=_mb(path.stat().st_size), limit=_mb(limit))
    return raw


# --- .docx ---------------------------------------------------------------------------------------------
def _check_archive(archive: zipfile.ZipFile, name: str, limits: Limits) -> zipfile.ZipInfo:
    """Refuse on declared sizes and ratios before a single byte is unpacked; returns word/document.xml."""
    members = archive.infolist()
    if len(members) > limits.zip_members:
        raise ConvertError("err_docx_unreadable", name=name)
    bomb = ConvertError("err_docx_bomb", name=name, limit=_mb(limits.xml_bytes), ratio=limits.zip_ratio)
    if sum(m.file_size for m in members) > limits.xml_bytes + limits.file_bytes:
        raise bomb
    for member in members:
        if member.file_size > MB and member.file_size > limits.zip_ratio * max(member.compress_size, 1):
            raise bomb
    try:
        body = archive.getinfo("word/document.xml")
    except KeyError:
        raise ConvertError("err_docx_unreadable", name=name) from None
    if body.file_size > limits.xml_bytes:
        raise bomb
    return body


def _docx_title(archive: zipfile.ZipFile) -> str:
    from lxml import etree

    try:
        info = archive.getinfo("docProps/core.xml")
    except KeyError:
        return ""
    if info.file_size > MB:
        return ""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(archive.read(info), parser)
    found = root.find(_DC_TITLE)
    return (found.text or "").strip() if found is not None else ""


def stream_docx_text(source: IO[bytes] | io.RawIOBase, budget: TextBudget) -> None:
    """Paragraphs (and table rows as 'a | b | c') of a document.xml stream, in order, into `budget`.

    Each element is cleared once read, so memory holds one paragraph at a time, whatever the file's size.
    """
    from lxml import etree

    paragraph, row, cell = f"{_W}p", f"{_W}tr", f"{_W}tc"
    in_table = 0
    cells: list[str] = []
    events = etree.iterparse(
        source,
        events=("start", "end"),
        tag=(paragraph, row, cell, f"{_W}tbl"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    for event, element in events:
        tag = element.tag
        if tag == f"{_W}tbl":
            in_table += 1 if event == "start" else -1
        if event == "start":
            continue
        if tag == cell:
            cells.append(" ".join("".join(element.itertext()).split()))
        elif tag == row:
            budget.add(" | ".join(c for c in cells if c))
            cells = []
        elif tag == paragraph and not in_table:
            budget.add("".join(t.text or "" for t in element.iter(f"{_W}t")))
        if tag != paragraph or not in_table:
            element.clear(keep_tail=False)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]


def _docx(path: Path, name: str, limits: Limits) -> Converted:
    from lxml import etree

    budget = TextBudget(name, limits.text_bytes)
    try:
        with zipfile.ZipFile(path) as archive:
            body = _check_archive(archive, name, limits)
            with archive.open(body) as raw:
                stream_docx_text(CountingReader(raw, limits.xml_bytes), budget)
            title = _docx_title(archive)
    except BudgetExceeded:
        raise ConvertError(
            "err_docx_bomb", name=name, limit=_mb(limits.xml_bytes), ratio=limits.zip_ratio
        ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, etree.Error, EOFError, OSError, ValueError) as exc:
        if isinstance(exc, ConvertError):
            raise
        log.info("docx %s unreadable: %r", name, exc)
        raise ConvertError("err_docx_unreadable", name=name) from None
    return Converted(budget.text(), title)


# --- .pdf ----------------------------------------------------------------------------------------------
def _pdf(path: Path, name: str, limits: Limits) -> Converted:
    import pypdf
    from pypdf.errors import LimitReachedError

    stream = limits.pdf_stream_bytes
    budget = TextBudget(name, limits.text_bytes)
    with pypdf.apply_configuration(
        zlib_maximum_output_length=stream,
        lzw_maximum_output_length=stream,
        run_length_maximum_output_length=stream,
        brotli_maximum_output_length=stream,
        array_based_stream_maximum_output_length=stream,
        jbig2_maximum_output_length=stream,
        image_maximum_buffer_size=stream,
        stream_decoding_work_maximum_length=4 * stream,
        stream_parsing_work_maximum_count=500_000,
    ):
        try:
            reader = pypdf.PdfReader(str(path))
            if reader.is_encrypted:
                raise ConvertError("err_pdf_encrypted", name=name)
            pages = len(reader.pages)
            if pages > limits.pdf_pages:
                raise ConvertError("err_pdf_pages", name=name, pages=pages, limit=limits.pdf_pages)
            texts = []
            for page in reader.pages:
                texts.append((page.extract_text() or "").strip())
                budget.add(texts[-1])
            title = str(reader.metadata.get("/Title") or "") if reader.metadata else ""
        except ConvertError:
            raise
        except LimitReachedError as exc:
            log.info("pdf %s over a pypdf limit: %s", name, exc)
            raise ConvertError("err_pdf_limit", name=name) from None
        except Exception as exc:  # pypdf raises many kinds of error on hostile input; none may leak
            log.info("pdf %s unreadable: %r", name, exc)
            raise ConvertError("err_pdf_unreadable", name=name) from None
    return Converted(budget.text(), title.strip(), tuple(texts))


# --- .html ---------------------------------------------------------------------------------------------
def _html(path: Path, name: str, limits: Limits) -> Converted:
    import trafilatura

    html = decode_text(_read_bytes(path, name, min(limits.html_bytes, limits.file_bytes)), name)
    budget = TextBudget(name, limits.text_bytes)
    budget.add(
        trafilatura.extract(html, include_comments=False, include_tables=True, favor_recall=True) or ""
    )
    meta = trafilatura.extract_metadata(html)
    return Converted(budget.text(), str(getattr(meta, "title", "") or "").strip())


def _check_size(path: Path, name: str, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise ConvertError("err_size", name=name, size=_mb(size), limit=_mb(limits.file_bytes))
    if size == 0:
        raise ConvertError("err_empty", name=name)
    if path.suffix.lower() in (".html", ".htm") and size > limits.html_bytes:
        raise ConvertError("err_html_size", name=name, size=_mb(size), limit=_mb(limits.html_bytes))


def check_file(path: Path, name: str, limits: Limits) -> str:
    """The file's suffix, once its type and size are acceptable; ConvertError before any work otherwise."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ConvertError("err_type", name=name, suffix=suffix or "(none)", allowed=" ".join(SUFFIXES))
    _check_size(path, name, limits)
    return suffix


def read_text(path: Path, name: str, limits: Limits) -> str:
    """A .md or .txt file decoded, within the size limit."""
    text = decode_text(_read_bytes(path, name, limits.file_bytes), name)
    if len(text.encode("utf-8")) > limits.text_bytes:
        raise ConvertError("err_text_budget", name=name, limit=_mb(limits.text_bytes))
    return text


def convert(path: Path, name: str | None = None, limits: Limits | None = None) -> Converted:
    """The text of any supported file; `name` is what messages call it (the user's file name, not a temp path).

    A .md or .txt file comes back as it is (front matter included): the loader reads it.
    """
    name = name or path.name
    limits = limits or Limits()
    suffix = check_file(path, name, limits)
    if suffix == ".pdf":
        return _pdf(path, name, limits)
    if suffix == ".docx":
        return _docx(path, name, limits)
    if suffix in (".html", ".htm"):
        return _html(path, name, limits)
    return Converted(read_text(path, name, limits))


class ConversionCache:
    """Converted text of recently read files, keyed by path, size and mtime, bounded by total bytes.

    An ingest run reads each file several times (plan, count, one pass per encoder); a PDF should be
    converted once per run, not four times.
    """

    def __init__(self, max_bytes: int = 64 * MB) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[tuple[str, int, int, Limits], tuple[Converted, int]] = OrderedDict()
        self._bytes = 0

    def convert(self, path: Path, limits: Limits) -> Converted:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, limits)
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key][0]
        converted = convert(path, path.name, limits)
        size = len(converted.text)
        if size <= self.max_bytes:
            self._items[key] = (converted, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped
        return converted
