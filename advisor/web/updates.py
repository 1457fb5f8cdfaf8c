"""The one adapter between handlers and Gradio: named updates in, outputs in order out, no internal error out.

Handlers return (or yield) `Updates`, a dict keyed by the names of `Components` fields; a name left out is
left unchanged. `bind` turns a handler into the function Gradio calls. Any exception other than a
`gr.Error` is logged with its traceback and replaced by one clear, bilingual message, so no OSError path,
pydantic dump or parser message ever reaches a browser or an API client.
"""

from __future__ import annotations

import functools
import inspect
import logging
import typing
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import gradio as gr

from ..i18n import t

Updates = dict[str, Any]
log = logging.getLogger("advisor.web")


def _unwrapped(handler: Callable[..., Any]) -> Callable[..., Any]:
    while isinstance(handler, functools.partial):
        handler = handler.func
    return handler


def internal_error() -> gr.Error:
    """What a user sees when something unexpected failed: a clear sentence, never the exception."""
    return gr.Error(t("en", "internal_error"), title="advisor")


def bind(
    handler: Callable[..., Any], outputs: Sequence[str], components: Any
) -> tuple[Callable[..., Any], list[Any]]:
    """(the function for Gradio, the output components) for a handler that returns or yields Updates.

    The wrapper keeps the handler's signature and resolved type hints: Gradio reads them to pass gr.Request,
    gr.EventData and gr.Progress (a partial's own hints would be lost).
    """
    blocks = [getattr(components, name) for name in outputs]

    def ordered(updates: Updates) -> Any:
        unknown = set(updates) - set(outputs)
        if unknown:
            raise KeyError(f"updates for components that are not outputs: {sorted(unknown)}")
        values = tuple(updates.get(name, gr.skip()) for name in outputs)
        return values[0] if len(values) == 1 else values

    if inspect.isgeneratorfunction(_unwrapped(handler)):

        @functools.wraps(handler)
        def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
            try:
                for updates in handler(*args, **kwargs):
                    yield ordered(updates)
            except gr.Error:
                raise
            except Exception as exc:
                log.exception("web handler failed")
                raise internal_error() from exc

        stream.__annotations__ = typing.get_type_hints(_unwrapped(handler))
        return stream, blocks

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return ordered(handler(*args, **kwargs))
        except gr.Error:
            raise
        except Exception as exc:
            log.exception("web handler failed")
            raise internal_error() from exc

    call.__annotations__ = typing.get_type_hints(_unwrapped(handler))
    return call, blocks


def guard(handler: Callable[..., Any]) -> Callable[..., Any]:
    """An API function (gr.api) with the same error policy as `bind`: gr.Error passes, anything else is hidden."""

    @functools.wraps(handler)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:
            log.exception("web API function failed")
            raise internal_error() from exc

    return call
