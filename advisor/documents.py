"""Documents added and removed through the web page: convert, check, store under HOME/uploads, re-index.

No Gradio here. An upload is converted by `ingest/convert.py` (the same path and limits as `advisor ingest`),
becomes a Markdown file with front matter named by a generated id (never by the uploaded file's name),
is written to a hidden 0600 file first, checked with the loader the index uses and counted in passages;
only then does it wait its turn, move into place and get embedded. A failed upload leaves the index as it
was. Every refusal is an `UploadError` whose message exists in both languages.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Literal

import yaml

from .i18n import LocalizedError
from .ingest.convert import SUFFIXES, Limits, convert
from .ingest.errors import ConvertError, LoadError
from .ingest.load import load_file, read_front_matter
from .ingest.split import split_document
from .ingest.uploads import HEAD_LIMIT, UPLOAD_ID, normalise_body, paged_body
from .text import detect_lang

if TYPE_CHECKING:
    from .core import Advisor

ALLOWED_SUFFIXES = SUFFIXES
_FRONT_MATTER = re.compile(r"\A\ufeff?---\r?\n.*?\r?\n---\r?\n", re.DOTALL)


class UploadError(LocalizedError):
    """An upload or removal that was refused; the message says why, in words a user can act on."""


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
    source_file: str  # what the user knows the file as: the uploaded name, or the file in the corpus
    date: str  # the document's own date (corpus), or the day it was uploaded
    size_bytes: int | None
    removable: bool
    owner: str = ""  # who uploaded it, when a login is configured


@dataclass(frozen=True)
class Step:
    """Where an upload or removal stands, for a progress display."""

    stage: Literal["waiting", "reading", "indexing"]
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    ahead: int = 0  # changes queued before this one


Report = Callable[[Step], None]


def display_name(raw_name: str) -> str:
    """The bare file name of an upload, for display only (a browser may send 'C:\\x\\a.pdf' or '../../a')."""
    name = PurePath(raw_name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:120] if name.strip(".") else "document"


def _title(text: str, found: str, original: str) -> str:
    if found.strip():
        return found.strip()[:120]
    first = next((ln.strip().lstrip("#").strip() for ln in text.splitlines() if ln.strip()), "")
    return first if 0 < len(first) <= 80 else PurePath(original).stem[:120] or "document"


def to_markdown(doc_id: str, title: str, original_name: str, lang: str, body: str, **facts: object) -> str:
    """The stored form of an upload: YAML front matter (safely quoted), then the extracted text."""
    meta = {
        "id": doc_id,
        "title": title,
        "languages": [lang],
        "kind": "upload",
        "source": "uploaded through the web page",
        "source_file": original_name,
        **facts,
    }
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip()
    return f"---\n{front}\n---\n{body}"


def _write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600), whatever the umask."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


class ChangeQueue:
    """One change to the document set at a time, first come first served; a waiter hears its place."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._line: list[object] = []

    @contextmanager
    def turn(self, waiting: Callable[[int], None] | None = None) -> Iterator[None]:
        ticket = object()
        with self._cond:
            self._line.append(ticket)
        try:
            while True:
                with self._cond:
                    ahead = self._line.index(ticket)
                    if ahead == 0:
                        break
                if waiting is not None:
                    waiting(ahead)  # outside the lock: a progress display may be slow
                with self._cond:
                    if self._line[0] is not ticket:
                        self._cond.wait(timeout=1.0)
            yield
        finally:
            with self._cond:
                self._line.remove(ticket)
                self._cond.notify_all()


class DocumentLibrary:
    """Add and remove uploaded documents; list everything in the index.

    Uploads are embedded by a second Advisor over the same index and models, so questions answered by
    `advisor` keep running during a long upload; `advisor` then picks up the change with a quick re-sync.
    Those index calls sit together at the end of the class.
    """

    def __init__(self, advisor: Advisor, writer: Advisor | None = None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.uploads_dir = advisor.settings.uploads_dir
        self.limits = Limits.for_upload_mb(self.settings.max_upload_mb)
        self.max_passages = self.settings.upload_max_passages
        self.queue = ChangeQueue()
        self._writer = writer
        # Seconds per passage, learnt from each upload; the first guess is the measured ~8 passages/s on 2 cores.
        self.seconds_per_passage = 0.06 * len(advisor.embedders)

    # --- listing ----------------------------------------------------------------------------------
    def documents(self) -> list[DocumentRow]:
        rows = []
        for s in self.advisor.sources():
            upload = self._upload_path(s.doc_id)
            if upload is not None:
                meta = read_front_matter(upload, HEAD_LIMIT)
                name = str(meta.get("source_file") or s.source_file)
                date = str(meta.get("added") or "")[:10]
                size = meta.get("original_bytes")
                rows.append(
                    DocumentRow(
                        s.doc_id,
                        s.title,
                        s.languages,
                        s.chunks,
                        name,
                        date,
                        int(size) if isinstance(size, int) else None,
                        True,
                        str(meta.get("owner") or ""),
                    )
                )
                continue
            file = self._corpus_file(s.path)
            meta = read_front_matter(file) if file is not None else {}
            date = str(meta.get("date") or "")
            size_bytes = file.stat().st_size if file is not None else None
            rows.append(
                DocumentRow(s.doc_id, s.title, s.languages, s.chunks, s.path, date, size_bytes, False)
            )
        return rows

    def title_of(self, doc_id: str) -> str | None:
        """The title of a removable (uploaded) document, or None."""
        if self._upload_path(doc_id) is None:
            return None
        return next((s.title for s in self.advisor.sources() if s.doc_id == doc_id), doc_id)

    def _corpus_file(self, rel_path: str) -> Path | None:
        """The corpus file behind a listed path such as 'corpus/x.md' (None for other sources)."""
        parts = PurePath(rel_path).parts
        corpus = self.settings.kb_corpus_dir
        if len(parts) < 2 or parts[0] != corpus.name:
            return None
        path = corpus.joinpath(*parts[1:])
        return path if path.is_file() else None

    def _upload_path(self, doc_id: str) -> Path | None:
        """The stored file of an uploaded document, or None (corpus documents and unknown ids)."""
        if not UPLOAD_ID.match(doc_id):
            return None
        path = self.uploads_dir / f"{doc_id}.md"
        return path if path.is_file() else None

    def _duplicate_of(self, digest: str) -> str | None:
        """The title of an upload with exactly this text, if one is stored."""
        if not self.uploads_dir.is_dir():
            return None
        for path in self.uploads_dir.glob("upload-*.md"):
            meta = read_front_matter(path, HEAD_LIMIT)
            if meta.get("content_sha256") == digest:
                return str(meta.get("title") or path.stem)
        return None

    def _private_dir(self) -> None:
        """HOME/uploads exists and only its owner can list it (0700); stored copies are 0600."""
        self.uploads_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.uploads_dir, 0o700)

    # --- changes ----------------------------------------------------------------------------------
    def check(self, path: Path, original_name: str) -> None:
        """Refuse wrong types and oversize files before any work is done."""
        from .ingest.convert import check_file

        try:
            check_file(path, original_name, self.limits)
        except ConvertError as exc:
            raise UploadError(exc.key, **exc.values) from None

    def add(
        self,
        path: Path,
        original_name: str | None = None,
        report: Report | None = None,
        owner: str | None = None,
    ) -> UploadResult:
        """Convert, check, store and index one uploaded file; UploadError (index unchanged) if it fails.

        `owner` is the signed-in uploader (kept in the stored file): only they or an admin remove it.
        """
        name = display_name(original_name or path.name)
        tell = report or (lambda _: None)
        tell(Step("reading"))
        try:
            converted = convert(path, name, self.limits)
        except ConvertError as exc:
            raise UploadError(exc.key, **exc.values) from None
        except OSError:
            raise UploadError("err_gone", name=name) from None
        text = converted.text
        if PurePath(name).suffix.lower() in (".md", ".txt"):
            text = _FRONT_MATTER.sub("", text, count=1)  # an upload never sets its own id or metadata
        body, pages = paged_body(converted.pages) if converted.pages else (normalise_body(text), "")
        if len(body.strip()) < 2:
            raise UploadError("err_no_text", name=name)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        same = self._duplicate_of(digest)
        if same is not None:
            raise UploadError("err_duplicate", name=name, title=same)

        doc_id = f"upload-{uuid.uuid4().hex[:12]}"
        lang = detect_lang(body)
        title = _title(body, converted.title, name)
        facts = {
            "added": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "original_bytes": path.stat().st_size,
            "content_sha256": digest,
            **({"pages": pages} if pages else {}),
            **({"owner": owner} if owner else {}),
        }
        self._private_dir()
        final = self.uploads_dir / f"{doc_id}.md"
        temp = self.uploads_dir / f".{doc_id}.md"  # hidden: never picked up by an ingest
        try:
            _write_private(temp, to_markdown(doc_id, title, name, lang, body, **facts))
            try:
                passages = len(split_document(load_file(temp)))  # exactly as the index will load it
            except LoadError:
                raise UploadError("err_index", name=name) from None
            if passages > self.max_passages:
                raise UploadError("err_passages", name=name, passages=passages, limit=self.max_passages)
            with self.queue.turn(lambda ahead: tell(Step("waiting", ahead=ahead))):
                os.replace(temp, final)
                self._index_new(final, name, passages, tell)
        finally:
            temp.unlink(missing_ok=True)
        chunks = next((s.chunks for s in self.advisor.sources() if s.doc_id == doc_id), 0)
        return UploadResult(doc_id, title, name, lang, chunks)

    def owner_of(self, doc_id: str) -> str | None:
        """Who uploaded a document (None: nobody signed in, a corpus document, or an unknown id)."""
        path = self._upload_path(doc_id)
        owner = read_front_matter(path, HEAD_LIMIT).get("owner") if path is not None else None
        return str(owner) if owner else None

    def remove(
        self,
        doc_id: str,
        report: Report | None = None,
        allowed: Callable[[str | None], bool] = lambda owner: True,
    ) -> str:
        """Delete an uploaded document and its chunks; returns its title. Corpus documents are refused.

        `allowed(owner)` says whether the person asking may remove an upload of that owner.
        """
        tell = report or (lambda _: None)
        with self.queue.turn(lambda ahead: tell(Step("waiting", ahead=ahead))):
            path = self._upload_path(doc_id)
            if path is None:
                known = {s.doc_id: s.title for s in self.advisor.sources()}
                if doc_id in known:
                    raise UploadError("err_corpus_remove", title=known[doc_id])
                raise UploadError("err_unknown_doc", doc_id=repr(doc_id))
            title = next((s.title for s in self.advisor.sources() if s.doc_id == doc_id), doc_id)
            owner = self.owner_of(doc_id)
            if not allowed(owner):
                raise UploadError("err_not_owner", title=title, owner=owner or "—")
            path.unlink()
            self._reindex()
        return title

    # --- the index: the only calls that change it -------------------------------------------------
    def _index_new(self, final: Path, name: str, passages: int, tell: Report) -> None:
        """Embed the stored file (rolled back on any failure, or when nothing in it is new)."""
        encoders = len(self.advisor.embedders)
        started = time.monotonic()
        embedded = [0]  # one count per passage and encoder

        def progress(_total: int, _label: str) -> Callable[[int], None]:
            def advance(n: int) -> None:
                embedded[0] += n
                done = min(embedded[0] // encoders, passages)
                per_passage = (time.monotonic() - started) * encoders / embedded[0]
                tell(Step("indexing", done, passages, (passages - done) * per_passage))

            return advance

        tell(Step("indexing", 0, passages, passages * self.seconds_per_passage))
        before = {s.doc_id: s.chunks for s in self.advisor.sources()}
        try:
            report = self.writer.ingest(progress=progress)
            if any(final.name in line for line in report.failed):
                raise UploadError("err_index", name=name)
            self.advisor.ingest()  # nothing left to embed: picks up the new chunks for questions
            after = self.advisor.sources()
            # Text already indexed is claimed by one document only: an upload must not take it from another.
            robbed = [s for s in after if s.chunks < before.get(s.doc_id, 0)]
            if robbed:
                raise UploadError("err_duplicate", name=name, title=robbed[0].title)
            if not any(s.doc_id == final.stem and s.chunks for s in after):
                raise UploadError("err_all_duplicate", name=name)
        except BaseException:
            final.unlink(missing_ok=True)
            self._reindex()
            raise
        if embedded[0]:
            self.seconds_per_passage = (time.monotonic() - started) / passages

    def _reindex(self) -> None:
        """Bring both the writer and the answering index in line with the files on disk."""
        self.writer.ingest()
        self.advisor.ingest()

    @property
    def writer(self) -> Advisor:
        if self._writer is None:
            from .core import Advisor

            self._writer = Advisor(self.settings, embedders=self.advisor.embedders)
        return self._writer
