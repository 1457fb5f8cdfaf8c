"""Reasoning models think before they answer; the thinking is never part of the answer.

Servers deliver it in one of two ways:
- in a separate field (`reasoning_content` from DeepSeek and vLLM's reasoning parser, `thinking` from Ollama),
  which the chat-model adapters report as a flag on the chunk and never as text;
- inside the text as `<think>…</think>` (vLLM, llama.cpp or Ollama serving the raw model), often with the
  tags split across stream chunks, sometimes never closed, and sometimes without the opening tag because the
  server's chat template put it in the prompt (QwQ, DeepSeek-R1).

`ThinkFilter` turns either form into answer text (`Delta`) and a `Thinking` signal, one chunk at a time,
holding back only the few characters that may be the start of a tag.
"""

from __future__ import annotations

import re

from ..schema import Delta, Progress, Thinking

OPEN, CLOSE = "<think>", "</think>"
_TAG = re.compile(r"</?think>", re.IGNORECASE)


def _partial_tag(text: str) -> int:
    """Where a trailing prefix of a tag starts in `text` ("…<thi" → its index), or len(text) if none."""
    start = text.rfind("<")
    if start < 0:
        return len(text)
    tail = text[start:].lower()
    return start if OPEN.startswith(tail) or CLOSE.startswith(tail) else len(text)


class ThinkFilter:
    """Model output in, answer text and thinking signals out; the thinking's own text is dropped."""

    def __init__(self) -> None:
        self._held = ""  # the start of what may be a tag
        self._inside = False  # within <think>…</think>
        self._opened = False  # this reply opened a <think> block
        self._reasoning = False  # the last thing the model sent was reasoning in its own field
        self._signalled = False  # a Thinking event went out for the current stretch of thinking
        self._shown = False  # answer text went out (what a retraction takes back)
        self._strip = False  # drop the whitespace a model writes after </think>

    @property
    def thinking(self) -> bool:
        """Is the model thinking right now (so a deadline that passes now is thinking's fault)?"""
        return self._inside or self._reasoning

    def feed(self, text: str, reasoning: bool = False) -> list[Progress]:
        """One chunk of output: its text, and whether it carried reasoning in a separate field."""
        events: list[Progress] = []
        if reasoning:
            self._reasoning = True
            self._signal(events)
        buffer, self._held = self._held + text, ""
        while buffer:
            if self._inside:
                end = buffer.lower().find(CLOSE)
                if end < 0:
                    self._held = buffer[_partial_tag(buffer) :]
                    break
                buffer = buffer[end + len(CLOSE) :]
                self._inside, self._strip, self._signalled = False, True, False
                continue
            tag = _TAG.search(buffer)
            if tag is None:
                cut = _partial_tag(buffer)
                self._show(buffer[:cut], events)
                self._held = buffer[cut:]
                break
            before, buffer = buffer[: tag.start()], buffer[tag.end() :]
            if tag.group(0).lower() == OPEN:
                self._show(before, events)
                self._inside = self._opened = True
                self._signal(events)
            elif self._opened:
                self._show(before, events)  # a stray closing tag after a block: drop the tag only
                self._strip = True
            else:  # </think> with no <think>: everything so far was thinking
                if self._shown:
                    events.append(Thinking(retract=True))
                self._shown, self._strip, self._signalled = False, True, False
        return events

    def finish(self) -> list[Progress]:
        """The end of the reply: release a held '<…' that was not a tag after all (dropped inside thinking)."""
        events: list[Progress] = []
        held, self._held = self._held, ""
        if not self._inside:
            self._show(held, events)
        return events

    def _show(self, text: str, events: list[Progress]) -> None:
        if self._strip:
            text = text.lstrip()
        if not text:
            return
        self._strip = False
        if text.strip():
            self._shown = True
            self._reasoning = self._signalled = False
        events.append(Delta(text))

    def _signal(self, events: list[Progress]) -> None:
        if not self._signalled:
            self._signalled = True
            events.append(Thinking())
