"""Follow the index version: serve what was built from one version until the next one is ready.

Every process that answers questions holds a view built from one version (the retriever over its chunk
table and lexical index). It checks the version number at most every `interval_s` seconds, on the
question path; when it changed, the new view is built in a background thread and swapped in whole, so
questions never wait for a reload and never see half of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)


class Follower(Generic[T]):
    """The newest view built by `build` (which returns it with the version it was built from)."""

    def __init__(
        self, version: Callable[[], int], build: Callable[[], tuple[int, T]], interval_s: float
    ) -> None:
        self._version = version
        self._build = build
        self.interval_s = interval_s
        self._view: tuple[int, T] | None = None
        self._checked = 0.0
        self._loading: threading.Thread | None = None
        self._poller: threading.Thread | None = None
        self._lock = threading.Lock()
        self._first = threading.Lock()  # the first build runs once, however many questions arrive

    def current(self) -> tuple[int, T]:
        """(version, view) to answer one question from; starts a background reload when the index moved on."""
        view = self._view
        if view is None:
            with self._first:
                if self._view is None:
                    self._view = self._build()
                    self._checked = time.monotonic()
            assert self._view is not None
            return self._view
        now = time.monotonic()
        if now - self._checked >= self.interval_s:
            self._checked = now
            try:
                moved = self._version() != view[0]
            except OSError:  # a shared disk that hiccups: keep answering, check again later
                moved = False
            if moved:
                self._reload_in_background()
        return view

    def _reload_in_background(self) -> None:
        with self._lock:
            if self._loading is not None and self._loading.is_alive():
                return
            self._loading = threading.Thread(target=self._reload, name="index-follower", daemon=True)
            self._loading.start()

    def _reload(self) -> None:
        try:
            self._swap(self._build())
        except Exception:  # the old view keeps serving; the next check tries again
            log.exception("reloading the index failed; still answering from version %s", self.version)

    def _swap(self, view: tuple[int, T]) -> None:
        with self._lock:
            if self._view is None or view[0] >= self._view[0]:
                self._view = view

    @property
    def version(self) -> int | None:
        return self._view[0] if self._view is not None else None

    def refresh(self) -> None:
        """After this process changed the index: build the new view now, if one was already being served."""
        if self._view is not None and self._version() != self._view[0]:
            self._swap(self._build())

    def follow_in_background(self) -> None:
        """Check every `interval_s` even when no question comes (a web worker), so an idle worker is fresh too."""
        with self._lock:
            if self._poller is not None or self.interval_s <= 0:
                return
            self._poller = threading.Thread(target=self._poll, name="index-poller", daemon=True)
            self._poller.start()

    def _poll(self) -> None:
        while True:
            time.sleep(self.interval_s)
            try:
                self.current()
            except Exception:  # a broken version never stops the checks; questions report their own errors
                log.exception("checking the index version failed")

    def wait(self, timeout_s: float | None = None) -> None:
        """Wait for a background reload to finish (tests and benchmarks)."""
        loading = self._loading
        if loading is not None:
            loading.join(timeout_s)
