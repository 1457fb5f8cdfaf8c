"""Saved conversations on the page: who is asking, the list to reopen, and the export to Markdown/DOCX/PDF.

The owner is fixed when the page loads (the signed-in user, else this browser's random id kept in its
local storage) and lives in the server-side conversation state, so a visitor can neither pick nor guess
another owner. Exports go through the same exporter as the diagnosis report, into a folder under the
server's temp folder named by a random id; old export folders are swept on the next export.
"""

from __future__ import annotations

import datetime
import shutil
import time
import uuid
from pathlib import Path

import gradio as gr

from ..auth import owner_key
from ..conversations import ConversationStore, new_id, valid_id
from ..export import render as render_files
from ..export import write
from ..export.conversation import conversation_document
from ..i18n import t
from . import render
from .chat import Conversation, chat_update
from .updates import Updates

EXPORT_FORMATS = ("md", "docx", "pdf")
EXPORT_TTL_S = 15 * 60


def start(conversation: Conversation, browser_id: str | None, request: gr.Request) -> Updates:
    """On page load: whose conversations these are (the user, else this browser, given an id the first time)."""
    username = getattr(request, "username", None) if request is not None else None
    browser_id = browser_id if valid_id(browser_id) else new_id()
    owner = owner_key(username, browser_id)
    fresh = Conversation(owner=owner, kb=conversation.kb, profile=conversation.profile)
    return {"conversation": fresh, "browser_id": browser_id}


def _label(title: str, updated: float, lang: str) -> str:
    when = datetime.datetime.fromtimestamp(updated).strftime("%Y-%m-%d %H:%M")
    return f"{title} · {when}"


def choices(store: ConversationStore, conversation: Conversation, lang: str) -> Updates:
    """The owner's conversations, newest first, for the history list."""
    rows = store.list(conversation.owner) if conversation.owner else []
    return {
        "history": gr.update(
            choices=[(_label(r.title, r.updated, lang), r.conversation_id) for r in rows],
            value=None,
            label=t(lang, "history_choice"),
            info="" if rows else t(lang, "history_empty"),
        )
    }


def reopen(store: ConversationStore, conversation: Conversation, chosen: str | None, lang: str) -> Updates:
    """Open a saved conversation: its exchanges, its sources and its knowledge base, ready to continue."""
    if not chosen or conversation.owner is None:
        return {}
    saved = store.load(conversation.owner, chosen)
    if saved is None:
        gr.Warning(t(lang, "unknown_conversation"))
        return {}
    opened = Conversation(
        saved.exchanges, saved.conversation_id, conversation.owner, saved.kb, conversation.profile
    )
    return {
        "conversation": opened,
        "chatbot": chat_update(opened.messages),
        "sources": render.sources_html(opened.last_answer(), lang),
        "kb_choice": saved.kb,
    }


def _sweep(root: Path) -> None:
    """Remove export folders older than EXPORT_TTL_S (their files were downloaded long ago)."""
    if not root.is_dir():
        return
    cutoff = time.time() - EXPORT_TTL_S
    for folder in root.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)


def export(temp_dir: Path, conversation: Conversation, lang: str) -> Updates:
    """Write the conversation as Markdown, DOCX and PDF and offer the three files for download."""
    if not conversation.turns:
        gr.Warning(t(lang, "export_nothing"))
        return {f"export_{fmt}": gr.update(visible=False) for fmt in EXPORT_FORMATS}
    root = temp_dir / "exports"
    _sweep(root)
    folder = root / uuid.uuid4().hex  # never a name from the request
    folder.mkdir(parents=True, mode=0o700)
    stem = f"conversation-{(conversation.conversation_id or new_id())[:8]}"
    today = datetime.date.today().isoformat()
    doc = conversation_document(conversation.exchanges, "zh" if lang == "zh" else "en", date=today)
    paths = {p.suffix.lstrip("."): str(p) for p in write(render_files(doc, stem, EXPORT_FORMATS), folder)}
    return {f"export_{fmt}": gr.update(value=paths[fmt], visible=True) for fmt in EXPORT_FORMATS}


def relabel(lang: str) -> Updates:
    return {"export_button": gr.update(value=t(lang, "export"))}
