"""Thumbs up/down on answers, kept in SQLite under ADVISOR_HOME for the corpus owner to review."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Rating = Literal["up", "down"]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT '',
    backend TEXT NOT NULL DEFAULT '',
    refused INTEGER NOT NULL DEFAULT 0,
    citations TEXT NOT NULL DEFAULT '[]',
    comment TEXT NOT NULL DEFAULT ''
)
"""
MAX_TEXT = 20_000  # a stored field is cut here: feedback is for review, not an archive


@dataclass(frozen=True)
class FeedbackRecord:
    id: int
    created: float
    rating: Rating
    question: str
    answer: str
    lang: str
    backend: str
    refused: bool
    citations: list[dict[str, Any]]
    comment: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FeedbackStore:
    """One SQLite file; a connection per call, so any thread of the web server can record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        try:
            conn.execute(_SCHEMA)
            yield conn
            conn.commit()
        finally:
            conn.close()

    def record(
        self,
        rating: str,
        question: str,
        answer: str,
        *,
        citations: Sequence[dict[str, Any]] = (),
        lang: str = "",
        backend: str = "",
        refused: bool = False,
        comment: str = "",
    ) -> int:
        """Store one rating; returns its id. ValueError for a rating other than 'up' or 'down'."""
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be 'up' or 'down', got {rating!r}")
        if not question.strip():
            raise ValueError("feedback needs the question it is about")
        row = (
            time.time(),
            rating,
            question[:MAX_TEXT],
            answer[:MAX_TEXT],
            lang,
            backend,
            int(refused),
            json.dumps(list(citations), ensure_ascii=False)[: MAX_TEXT * 5],
            comment[:MAX_TEXT],
        )
        with self._lock, self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO feedback (created, rating, question, answer, lang, backend, refused, citations,"
                " comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            return int(cursor.lastrowid or 0)

    def list(self, limit: int | None = None, rating: str | None = None) -> list[FeedbackRecord]:
        """Newest first; optionally only 'up' or only 'down'."""
        if not self.path.is_file():
            return []
        sql = "SELECT id, created, rating, question, answer, lang, backend, refused, citations, comment FROM feedback"
        params: list[Any] = []
        if rating:
            sql += " WHERE rating = ?"
            params.append(rating)
        sql += " ORDER BY id DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(limit)
        with self._connect() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [
            FeedbackRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), _citations(r[8]), r[9])
            for r in rows
        ]


def _citations(raw: str) -> list[dict[str, Any]]:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return []
    return value if isinstance(value, list) else []
