"""Stop, as the answer being written sees it: one flag per browser tab, checked before every piece is shown.

Cancelling the task that writes an answer races with it: a piece already on its way can land after the
"stopped" mark, so the text seemed to go on after Stop. Instead the writer records what it is about to
show and asks first whether Stop was pressed; once it was, it shows what had been recorded, marked
stopped, and ends. Stop waits (briefly) until the writer has seen the flag, so nothing the writer showed
before can arrive after Stop's own update, and both show the same text.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

State = TypeVar("State")


class Run(Generic[State]):
    """One answer being written: what is on screen so far, and whether Stop was pressed."""

    def __init__(self, state: State) -> None:
        self._lock = threading.Lock()
        self._state = state
        self._stopped = False
        self.settled = threading.Event()  # set once the writer has seen the stop, or has ended

    def show(self, state: State) -> bool:
        """Record `state` as shown next; False once Stop was pressed (then show `stopped_state` instead)."""
        with self._lock:
            if self._stopped:
                self.settled.set()
                return False
            self._state = state
            return True

    @property
    def stopped_state(self) -> State:
        with self._lock:
            return self._state

    @property
    def stopped(self) -> bool:
        with self._lock:
            return self._stopped

    def stop(self) -> State:
        """Press Stop: what was on screen when it was pressed (the writer shows nothing newer)."""
        with self._lock:
            self._stopped = True
            return self._state


class Stops(Generic[State]):
    """The runs in progress, by browser tab (Gradio's session hash); a tab writes one answer at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, Run[State]] = {}

    def begin(self, tab: str | None, state: State) -> Run[State]:
        run = Run(state)
        if tab:
            with self._lock:
                self._runs[tab] = run
        return run

    def end(self, tab: str | None, run: Run[State]) -> None:
        run.settled.set()
        if tab:
            with self._lock:
                if self._runs.get(tab) is run:
                    del self._runs[tab]

    def writing(self, tab: str) -> bool:
        """Whether the tab is writing an answer (and Stop has not reached it yet)."""
        with self._lock:
            run = self._runs.get(tab)
        return run is not None and not run.stopped

    def stop(self, tab: str | None, wait_s: float) -> State | None:
        """Stop the tab's run and wait up to `wait_s` for its writer to see it; None if nothing is written."""
        with self._lock:
            run = self._runs.get(tab) if tab else None
        if run is None:
            return None
        state = run.stop()
        run.settled.wait(wait_s)
        return state
