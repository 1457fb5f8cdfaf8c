"""The Documents tab's handlers: list, upload (with progress and a visible queue), remove after confirming.

Uploaded originals arrive in the web server's temp folder (under HOME); each is deleted as soon as it has
been converted, whether it was added or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import gradio as gr

from ..auth import Access
from ..documents import DocumentLibrary, Step, UploadError
from ..i18n import t
from . import render
from .chat import Conversation
from .updates import Updates

ProgressBar = Callable[..., Any]  # gr.Progress: bar((done, total), desc=...) or bar(None, desc=...)
PROGRESS = gr.Progress()  # Gradio passes a live progress bar to a parameter with this default


class Libraries(Protocol):
    """The uploads of each knowledge base (advisor.knowledge.KnowledgeBases)."""

    def library(self, kb: str) -> DocumentLibrary: ...


def _user(request: gr.Request | None) -> str | None:
    """The signed-in user (None without login)."""
    return getattr(request, "username", None) if request is not None else None


def view(libraries: Libraries, conversation: Conversation, lang: str) -> Updates:
    """The table of documents of the chosen knowledge base and the uploads that can be removed."""
    rows = libraries.library(conversation.kb).documents()
    return {
        "table": gr.update(value=render.document_rows(rows, lang), headers=render.document_headers(lang)),
        "remove_choice": gr.update(
            choices=[(r.title, r.doc_id) for r in rows if r.removable],
            value=None,
            label=t(lang, "remove_label"),
        ),
    }


def step_text(step: Step, lang: str) -> str:
    """A progress line in the interface language, with an estimate of the time left."""
    if step.stage == "waiting":
        return t(lang, "waiting", ahead=step.ahead)
    if step.stage == "reading":
        return t(lang, "stage_reading")
    eta = render.duration(step.eta_s or 0.0, lang)
    if step.done == 0:
        return f"{t(lang, 'stage_indexing')} · {t(lang, 'estimate', passages=step.total, eta=eta)}"
    done = t(lang, "progress_passages", done=step.done, total=step.total, eta=eta)
    return f"{t(lang, 'stage_indexing')} · {done}"


def _reporter(bar: ProgressBar, lang: str, prefix: str) -> Callable[[Step], None]:
    def report(step: Step) -> None:
        fraction = (step.done, step.total) if step.stage == "indexing" and step.total else None
        bar(fraction, desc=prefix + step_text(step, lang))

    return report


def _discard(path: Path, temp_dir: Path) -> None:
    """Delete an uploaded original (and its folder) when it lies in the server's temp folder."""
    try:
        resolved = path.resolve()
        root = temp_dir.resolve()
    except OSError:
        return
    if root not in resolved.parents:
        return
    resolved.unlink(missing_ok=True)
    parent = resolved.parent
    while parent != root and root in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent


def upload(
    libraries: Libraries,
    temp_dir: Path,
    files: Sequence[str] | str | None,
    conversation: Conversation,
    lang: str,
    request: gr.Request,
    bar: ProgressBar = PROGRESS,
) -> Updates:
    """Add each file to the chosen knowledge base; one status line per file, in the interface language."""
    library = libraries.library(conversation.kb)
    paths = [files] if isinstance(files, str) else list(files or [])
    if not paths:
        return {"status": t(lang, "no_file"), **view(libraries, conversation, lang)}
    lines = []
    for number, raw in enumerate(paths, 1):
        path = Path(raw)
        prefix = f"({number}/{len(paths)}) " if len(paths) > 1 else ""
        try:
            result = library.add(path, path.name, report=_reporter(bar, lang, prefix), owner=_user(request))
            lines.append("✓ " + t(lang, "uploaded", title=result.title, chunks=result.chunks))
        except UploadError as exc:
            lines.append("✗ " + t(lang, "upload_failed", reason=exc.message(lang)))
        finally:
            _discard(path, temp_dir)
    status = "\n\n".join(render.escape_markdown(line) for line in lines)
    return {"status": status, **view(libraries, conversation, lang), "files": None}


def ask_remove(libraries: Libraries, doc_id: str | None, conversation: Conversation, lang: str) -> Updates:
    """Removing needs a second click: show which document would go, with Yes and Cancel."""
    title = libraries.library(conversation.kb).title_of(doc_id) if doc_id else None
    if title is None:
        return {"status": t(lang, "no_choice"), "confirm_row": gr.update(visible=False)}
    return {
        "status": "",
        "confirm_text": render.escape_markdown(t(lang, "confirm_remove", title=title)),
        "confirm_row": gr.update(visible=True),
    }


def cancel_remove() -> Updates:
    return {"confirm_row": gr.update(visible=False)}


def remove(
    libraries: Libraries,
    access: Access | None,
    doc_id: str | None,
    conversation: Conversation,
    lang: str,
    request: gr.Request,
    bar: ProgressBar = PROGRESS,
) -> Updates:
    """Remove an upload (the /remove_document endpoint, and "Yes, remove it"): its uploader's, or an admin's."""
    hidden = {"confirm_row": gr.update(visible=False)}
    if not doc_id:
        return {"status": t(lang, "no_choice"), **view(libraries, conversation, lang), **hidden}
    user = _user(request)
    allowed = (lambda owner: access.may_remove(user, owner)) if access is not None else (lambda owner: True)
    try:
        title = libraries.library(conversation.kb).remove(doc_id, _reporter(bar, lang, ""), allowed)
        status = "✓ " + t(lang, "removed", title=title)
    except UploadError as exc:
        status = "✗ " + t(lang, "remove_failed", reason=exc.message(lang))
    return {"status": render.escape_markdown(status), **view(libraries, conversation, lang), **hidden}


def relabel(
    libraries: Libraries, conversation: Conversation, lang: str, max_mb: int, max_passages: int
) -> Updates:
    """The Documents tab in another interface language."""
    return {
        "upload_hint": t(lang, "upload_hint", mb=max_mb, passages=max_passages),
        "files": gr.update(label=t(lang, "upload_label")),
        "upload_button": gr.update(value=t(lang, "upload_button")),
        "remove_button": gr.update(value=t(lang, "remove_button")),
        "confirm_button": gr.update(value=t(lang, "confirm_yes")),
        "cancel_button": gr.update(value=t(lang, "cancel")),
        "docs_label": f"**{t(lang, 'docs_list')}**",
        **view(libraries, conversation, lang),
    }
