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
from .ingest.load import parse_document, read_front_matter
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

    The index adds or removes one document while questions go on (from the version before, until the new one
    is published for every worker); those two calls sit together at the end of the class.
    """

    def __init__(self, advisor: Advisor) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.uploads_dir = advisor.settings.uploads_dir
        self.limits = Limits.for_upload_mb(self.settings.max_upload_mb)
        self.max_passages = self.settings.upload_max_passages
        self.queue = ChangeQueue()
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

    def _holder_of(self, text: str) -> str | None:
        """The title of the indexed document that already holds this text's first paragraph, if any."""
        body = _FRONT_MATTER.sub("", text, count=1)
        lines = [line.strip() for line in body.splitlines() if len(line.strip()) >= 20][:20]
        titles = {s.doc_id: s.title for s in self.advisor.sources()}
        chunks = list(self.advisor.retriever().chunks.values())
        for line in lines:  # headings are not indexed: the first paragraph that is names its document
            holder = next((c for c in chunks if line in c.text), None)
            if holder is not None:
                return titles.get(holder.doc_id, holder.title)
        return None

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
        text = to_markdown(doc_id, title, name, lang, body, **facts)
        try:
            document = parse_document(text, Path(f"{doc_id}.md"), f"{doc_id}.md")  # as the index will read it
            passages = len(split_document(document))
        except LoadError:
            raise UploadError("err_index", name=name) from None
        if passages > self.max_passages:
            raise UploadError("err_passages", name=name, passages=passages, limit=self.max_passages)
        with self.queue.turn(lambda ahead: tell(Step("waiting", ahead=ahead))):
            chunks = self._index_new(doc_id, text, name, passages, tell)
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
            owner = self.owner_of(doc_id)
            if not allowed(owner):
                title = next((s.title for s in self.advisor.sources() if s.doc_id == doc_id), doc_id)
                raise UploadError("err_not_owner", title=title, owner=owner or "—")
            try:
                title = self.advisor.remove_document(doc_id).title
            except LookupError:
                raise UploadError("err_unknown_doc", doc_id=repr(doc_id)) from None
        return title

    # --- the index: the only calls that change it -------------------------------------------------
    def _index_new(self, doc_id: str, text: str, name: str, passages: int, tell: Report) -> int:
        """Store and embed one upload for every worker (undone on any failure); its number of passages."""
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
        try:
            change = self.advisor.add_document(doc_id, text, progress=progress)
        except (LoadError, ValueError):
            raise UploadError("err_index", name=name) from None
        if change.chunks == 0:
            # Every line is already indexed in another document, which keeps it: nothing of this file is new.
            self.advisor.remove_document(doc_id)
            holder = self._holder_of(text)
            if holder is not None:
                raise UploadError("err_duplicate", name=name, title=holder)
            raise UploadError("err_all_duplicate", name=name)
        if embedded[0]:
            self.seconds_per_passage = (time.monotonic() - started) / passages
        return change.chunks
