"""👍/👎 under an answer and the /feedback endpoint: stored with the answer and its sources, limited per client."""

from __future__ import annotations

import gradio as gr

from ..feedback import FeedbackError, FeedbackStore, RateLimiter, check_payload
from ..i18n import t
from . import render
from .chat import Conversation, index_of
from .updates import Updates


def client_key(request: gr.Request | None) -> str:
    """Who is rating, for the rate limit: the peer address, or the first forwarded one behind a local proxy."""
    if request is None or request.client is None:
        return "unknown"
    host = str(request.client.host)
    forwarded = request.headers.get("x-forwarded-for") if request.headers else None
    if forwarded and host in ("127.0.0.1", "::1", "localhost"):
        return forwarded.split(",")[0].strip() or host
    return host


def _allow(limiter: RateLimiter, request: gr.Request | None) -> None:
    wait = limiter.wait_s(client_key(request))
    if wait > 0:
        raise FeedbackError("feedback_rate", seconds=max(1, round(wait)))


def rate(
    store: FeedbackStore,
    limiter: RateLimiter,
    conversation: Conversation,
    lang: str,
    event: gr.LikeData,
    request: gr.Request,
) -> Updates:
    """👍/👎 under an answer: stored with the answer and its sources; a second vote from a fast clicker waits."""
    answer = conversation.answers.get(index_of(event))
    if answer is None or event.liked is None or event.liked == "":
        return {}
    try:
        _allow(limiter, request)
    except FeedbackError as exc:
        gr.Warning(exc.message(lang))
        return {}
    store.record(
        "up" if event.liked is True or event.liked == "Like" else "down",
        answer.question,
        answer.text,
        citations=render.citations_payload(answer),
        lang=answer.lang,
        backend=answer.backend,
        refused=answer.refused,
    )
    gr.Info(t(lang, "thanks"))
    return {}


def feedback_api(
    store: FeedbackStore,
    limiter: RateLimiter,
    question: str,
    answer: str,
    rating: str,
    citations: str,
    request: gr.Request | None,
) -> int:
    """The /feedback endpoint: capped fields, limited rate per client, a clear error otherwise."""
    try:
        cited = check_payload(rating, question or "", answer or "", citations or "[]")
        _allow(limiter, request)
        return store.record(rating, question, answer, citations=cited)
    except FeedbackError as exc:
        raise gr.Error(exc.message("en"), title="advisor") from None
