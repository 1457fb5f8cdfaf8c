"""Conversations that last: each exchange (question + the whole Answer) kept in SQLite under HOME, per owner.

An owner is a signed-in user ("user:alice") or, without login, one browser ("browser:<random id>"); nobody
lists or opens another owner's conversations. Ids are random hex and checked before any lookup, so an id
never reaches a query or a file name unchecked. Answers are stored whole (passages, citations, locations),
so a conversation reopens with its sources and exports exactly as it was shown.
"""

from __future__ import annotations

import dataclasses
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .schema import Answer, Chunk, Citation, Passage
from .sqlite_file import connect

CONVERSATION_ID = re.compile(r"^[0-9a-f]{32}$")
TITLE_CHARS = 80
LIST_LIMIT = 50


def new_id() -> str:
    """A fresh conversation (or browser) id: 128 random bits as hex."""
    return uuid.uuid4().hex


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(CONVERSATION_ID.match(value))


@dataclass(frozen=True)
class Exchange:
    """One question as asked and the answer it got; None while it is written, or when it was stopped."""

    question: str
    answer: Answer | None
    partial: str = ""  # the text written before it was stopped (never stored)


@dataclass(frozen=True)
class Summary:
    """A conversation as the history list shows it."""

    conversation_id: str
    title: str
    updated: float
    turns: int
    kb: str = ""


@dataclass(frozen=True)
class Saved:
    """A stored conversation, ready to reopen or export."""

    conversation_id: str
    title: str
    kb: str
    created: float
    updated: float
    exchanges: tuple[Exchange, ...]


# --- answers as JSON ----------------------------------------------------------------------------------
def _passage_json(passage: Passage) -> dict[str, Any]:
    return {
        "chunk": dataclasses.asdict(passage.chunk),
        "score": passage.score,
        "parallel_text": passage.parallel_text,
        "scores": passage.scores,
    }


def _passage(row: dict[str, Any]) -> Passage:
    fields = {f.name for f in dataclasses.fields(Chunk)}
    chunk = Chunk(**{k: v for k, v in row["chunk"].items() if k in fields})
    return Passage(chunk, float(row["score"]), row.get("parallel_text"), dict(row.get("scores") or {}))


def answer_json(answer: Answer) -> dict[str, Any]:
    """Everything of an Answer, chunks included (its `to_dict` is the CLI contract and leaves chunks out)."""
    row = {f.name: getattr(answer, f.name) for f in dataclasses.fields(Answer)}
    row["passages"] = [_passage_json(p) for p in answer.passages]
    row["citations"] = [{"n": c.n, "passage": _passage_json(c.passage)} for c in answer.citations]
    row["notices"] = list(answer.notices)
    row["not_covered"] = list(answer.not_covered)
    return row


def answer_from_json(row: dict[str, Any]) -> Answer:
    """The Answer `answer_json` stored; fields added since are left at their defaults."""
    fields = {f.name for f in dataclasses.fields(Answer)}
    values = {k: v for k, v in row.items() if k in fields}
    values["passages"] = tuple(_passage(p) for p in row.get("passages", []))
    values["citations"] = tuple(
        Citation(int(c["n"]), _passage(c["passage"])) for c in row.get("citations", [])
    )
    values["notices"] = tuple(row.get("notices", ()))
    values["not_covered"] = tuple(row.get("not_covered", ()))
    return Answer(**values)


def _title(exchanges: Sequence[Exchange]) -> str:
    first = " ".join(exchanges[0].question.split()) if exchanges else ""
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL,
  kb TEXT NOT NULL DEFAULT '', created REAL NOT NULL, updated REAL NOT NULL, turns INTEGER NOT NULL,
  body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS by_owner ON conversations (owner, updated);
"""


class ConversationStore:
    """Conversations in one SQLite file; every call names its owner, and only sees that owner's rows."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path, _SCHEMA)

    def save(
        self, owner: str, conversation_id: str | None, exchanges: Sequence[Exchange], kb: str = ""
    ) -> str:
        """Store the answered exchanges under `conversation_id` (a new id when None); returns the id."""
        if conversation_id is not None and not valid_id(conversation_id):
            raise ValueError("not a conversation id")
        conversation_id = conversation_id or new_id()
        answered = [e for e in exchanges if e.answer is not None]
        body = json.dumps(
            [{"question": e.question, "answer": answer_json(e.answer)} for e in answered if e.answer],
            ensure_ascii=False,
        )
        now = time.time()
        with self._lock, self._connect() as db:
            found = db.execute("SELECT owner FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if found is not None and found[0] != owner:
                raise PermissionError("the conversation belongs to someone else")
            db.execute(
                "INSERT INTO conversations (id, owner, title, kb, created, updated, turns, body) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET title = excluded.title, "
                "kb = excluded.kb, updated = excluded.updated, turns = excluded.turns, body = excluded.body",
                (conversation_id, owner, _title(answered), kb, now, now, len(answered), body),
            )
        return conversation_id

    def list(self, owner: str, limit: int = LIST_LIMIT) -> list[Summary]:
        """The owner's conversations, most recently updated first."""
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT id, title, updated, turns, kb FROM conversations WHERE owner = ? "
                "ORDER BY updated DESC LIMIT ?",
                (owner, limit),
            ).fetchall()
        return [Summary(r[0], r[1], float(r[2]), int(r[3]), r[4]) for r in rows]

    def load(self, owner: str, conversation_id: str) -> Saved | None:
        """The owner's conversation with this id; None for an unknown id, a bad one, or someone else's."""
        if not valid_id(conversation_id):
            return None
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT title, kb, created, updated, body FROM conversations WHERE id = ? AND owner = ?",
                (conversation_id, owner),
            ).fetchone()
        if row is None:
            return None
        exchanges = tuple(
            Exchange(item["question"], answer_from_json(item["answer"])) for item in json.loads(row[4])
        )
        return Saved(conversation_id, row[0], row[1], float(row[2]), float(row[3]), exchanges)

    def delete(self, owner: str, conversation_id: str) -> bool:
        """Forget one of the owner's conversations; False when there was none."""
        if not valid_id(conversation_id):
            return False
        with self._lock, self._connect() as db:
            gone = db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            ).rowcount
        return bool(gone)
