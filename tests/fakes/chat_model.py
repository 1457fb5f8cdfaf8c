"""A scriptable LangChain chat model: queued replies (text or an exception to raise), a record of every call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import Field


class ScriptedChatModel(GenericFakeChatModel):
    """A GenericFakeChatModel that streams three characters at a time, records the messages of each call and can fail.

    `enqueue("text", ValueError("boom"), ...)`: each call takes the next item; an exception is raised.
    `calls` holds the messages of each call; `delay_s` stalls every call (for deadline tests). The async
    methods (what advisor calls) stall with asyncio.sleep, so a deadline can cancel them like an HTTP read.
    """

    messages: Iterator[AIMessage | str] = iter(())
    script: list[Any] = Field(default_factory=list)
    calls: list[list[BaseMessage]] = Field(default_factory=list)
    delay_s: float = 0.0
    default: str = "A cluster is an organised network of firms [1]."

    def enqueue(self, *items: Any) -> ScriptedChatModel:
        self.script.extend(items)
        return self

    def _take(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        item = self.script.pop(0) if self.script else self.default
        if isinstance(item, BaseException):
            raise item
        return str(item)

    def _next(self, messages: list[BaseMessage]) -> str:
        time.sleep(self.delay_s)
        return self._take(messages)

    async def _anext(self, messages: list[BaseMessage]) -> str:
        await asyncio.sleep(self.delay_s)
        return self._take(messages)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    async def _agenerate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        text = await self._anext(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    async def _astream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> AsyncIterator[ChatGenerationChunk]:
        for chunk in _pieces(await self._anext(messages)):
            yield chunk

    def system_prompt(self, call: int = -1) -> str:
        return str(self.calls[call][0].content)

    def user_prompt(self, call: int = -1) -> str:
        return str(self.calls[call][-1].content)


def _pieces(text: str) -> Iterator[ChatGenerationChunk]:
    for piece in (text[i : i + 3] for i in range(0, len(text), 3)):  # small pieces split [n] markers
        yield ChatGenerationChunk(message=AIMessageChunk(content=piece))


def scripted(*items: Any, delay_s: float = 0.0) -> ScriptedChatModel:
    """A fresh scripted model (pydantic fields are per instance: pass fresh lists)."""
    return ScriptedChatModel(script=list(items), calls=[], delay_s=delay_s)
