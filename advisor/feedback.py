"""Thumbs up/down on answers, kept in SQLite under ADVISOR_HOME for the corpus owner to review.

Anyone who can reach the page can rate, so ratings are capped in size (`check_payload`) and in rate per
client (`RateLimiter`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .i18n import LocalizedError
from .sqlite_file import connect

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
MAX_QUESTION = 5_000  # longer than any question the page accepts
MAX_CITATIONS_JSON = 100_000


class FeedbackError(LocalizedError):
    """Feedback that was refused (bad rating, too large, too frequent); says why in either language."""


def check_payload(rating: str, question: str, answer: str, citations_json: str) -> list[dict[str, Any]]:
    """The citations of an API rating, once every field is within its cap; FeedbackError otherwise."""
    if rating not in ("up", "down"):
        raise FeedbackError("feedback_rating")
    if not question.strip():
        raise FeedbackError("feedback_question")
    for value, limit in ((question, MAX_QUESTION), (answer, MAX_TEXT), (citations_json, MAX_CITATIONS_JSON)):
        if len(value) > limit:
            raise FeedbackError("feedback_too_large", limit=limit)
    try:
        cited = json.loads(citations_json or "[]")
    except ValueError:
        raise FeedbackError("feedback_citations") from None
    if not isinstance(cited, list) or not all(isinstance(c, dict) for c in cited):
        raise FeedbackError("feedback_citations")
    return cited


class RateLimiter:
    """At most `per_minute` events per client in any 60 s; remembers at most `max_clients` recent clients."""

    def __init__(
        self, per_minute: int, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self.clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait_s(self, client: str) -> float:
        """0 when `client` may go ahead now (and counts the event), else the seconds until it may."""
        now = self.clock()
        with self._lock:
            events = self._seen.pop(client, None) or deque()
            while events and now - events[0] >= 60.0:
                events.popleft()
            self._seen[client] = events
            while len(self._seen) > self.max_clients:
                self._seen.popitem(last=False)
            if len(events) >= self.per_minute:
                return 60.0 - (now - events[0])
            events.append(now)
            return 0.0


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

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path, _SCHEMA)

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
        """Store one rating; returns its id. FeedbackError for a rating other than 'up' or 'down'."""
        if rating not in ("up", "down"):
            raise FeedbackError("feedback_rating")
        if not question.strip():
            raise FeedbackError("feedback_question")
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
