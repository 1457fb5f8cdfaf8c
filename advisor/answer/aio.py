"""Model replies are read on one asyncio event loop, so a question that runs out of time can cancel its request.

A blocking HTTP read cannot be interrupted from another thread; an awaited one can be cancelled. Every model
call of the process runs as a task on one loop, on one daemon thread started on first use (so a question
adds no thread of its own). The question's thread takes the chunks from a queue under its own deadline; when
time is up, or it stops listening, it cancels the task, which closes the HTTP response and its socket before
`cancel()` returns.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

END = object()  # the reply ended normally
_CLOSE_WAIT_S = 2.0  # how long cancel() waits for the task to close its response (it takes milliseconds)

_loop: asyncio.AbstractEventLoop | None = None
_loop_lock = threading.Lock()


def io_loop() -> asyncio.AbstractEventLoop:
    """The event loop that reads every model reply, running on its own daemon thread from first use."""
    global _loop
    with _loop_lock:
        if _loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="advisor-llm-io", daemon=True).start()
            _loop = loop
        return _loop


class Reply:
    """One model reply being read on the loop: `get()` its items under a timeout, `cancel()` to stop reading."""

    def __init__(self, source: Callable[[], AsyncIterator[Any]]) -> None:
        self._items: queue.Queue[Any] = queue.Queue()
        self._done = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop = io_loop()
        self._loop.call_soon_threadsafe(self._start, source)

    def get(self, timeout: float) -> Any:
        """The next item, END, or the exception the call raised; raises queue.Empty when `timeout` passes first."""
        return self._items.get(timeout=max(timeout, 0.0))

    def cancel(self) -> None:
        """Stop reading (a no-op once the reply has ended) and wait until its HTTP response is closed."""
        self._loop.call_soon_threadsafe(self._stop)
        self._done.wait(_CLOSE_WAIT_S)

    # --- on the loop's thread ---------------------------------------------------------------------
    def _start(self, source: Callable[[], AsyncIterator[Any]]) -> None:
        self._task = self._loop.create_task(self._read(source()))
        self._task.add_done_callback(lambda _: self._done.set())

    def _stop(self) -> None:
        if self._task is not None:  # _start always runs first: both were queued from the same thread
            self._task.cancel()

    async def _read(self, items: AsyncIterator[Any]) -> None:
        try:
            async for item in items:
                self._items.put(item)
        except Exception as exc:  # handed to the caller's thread
            self._items.put(exc)
        else:
            self._items.put(END)
        finally:
            aclose = getattr(items, "aclose", None)
            if aclose is not None:
                await aclose()  # a generator left mid-reply closes its HTTP response here
