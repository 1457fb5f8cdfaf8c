"""An OpenAI-compatible API, so Open WebUI, LobeChat, Dify or the `openai` SDK can use advisor as a model.

`POST /v1/chat/completions` (streaming or not) and `GET /v1/models`. The model `advisor` asks the default
knowledge base, `advisor:<name>` another (or the extra field `kb`). The answer keeps its [n]; the citations
travel as an extra field `citations` (on the response, or on the last chunk of a stream). Earlier user and
assistant messages become the conversation a follow-up is rewritten against. Bearer keys come from
ADVISOR_API_KEYS; keys are compared in constant time and never logged.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request  # at module level: FastAPI reads the handlers' annotations

from ..answer.question import QuestionError, prepare_question
from ..auth import Access
from ..schema import Answer, Delta, Turn

if TYPE_CHECKING:
    from ..config import Settings
    from ..knowledge import KnowledgeBases

MODEL = "advisor"
MAX_BODY = 1024 * 1024
MAX_MESSAGES = 200


class ApiError(Exception):
    """A request the API refuses, with the HTTP status and the OpenAI-style error body."""

    def __init__(self, status: int, message: str, code: str, kind: str = "invalid_request_error") -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": {"message": message, "type": kind, "code": code, "param": None}}


def content_text(content: Any) -> str:
    """A message's text: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def to_question(messages: Any) -> tuple[str, list[Turn]]:
    """The last user message is the question; earlier user → assistant pairs are the conversation so far."""
    if not isinstance(messages, list) or not messages or len(messages) > MAX_MESSAGES:
        raise ApiError(400, f"messages must be a list of 1–{MAX_MESSAGES} messages", "invalid_messages")
    said = [(m.get("role"), content_text(m.get("content"))) for m in messages if isinstance(m, dict)]
    said = [(role, text) for role, text in said if role in ("user", "assistant")]
    if not said or said[-1][0] != "user":
        raise ApiError(400, "the last message must be the user's question", "invalid_messages")
    earlier = said[:-1]
    history: list[Turn] = [
        (text, earlier[i + 1][1])
        for i, (role, text) in enumerate(earlier[:-1])
        if role == "user" and earlier[i + 1][0] == "assistant"
    ]
    return said[-1][1], history


def kb_of(body: dict[str, Any], known: Sequence[str]) -> str:
    """Which knowledge base a request asks: `kb`, else the model's `advisor:<name>`; ApiError when unknown."""
    model = str(body.get("model") or MODEL)
    kb = body.get("kb")
    if kb is None:
        name, _, kb = model.partition(":")
        if name != MODEL:
            raise ApiError(404, f"the model {model!r} does not exist; see GET /v1/models", "model_not_found")
    if str(kb) not in known:
        raise ApiError(404, f"no knowledge base {kb!r}; see GET /v1/models", "model_not_found")
    return str(kb)


def model_name(kb: str) -> str:
    return f"{MODEL}:{kb}" if kb else MODEL


def extra(answer: Answer) -> dict[str, Any]:
    """What travels beside the text: the citations, and whether (and why) the documents did not cover it."""
    return {
        "citations": [c.to_dict() for c in answer.citations],
        "advisor": {
            "refused": answer.refused,
            "backend": answer.backend,
            "notices": list(answer.notices),
            "standalone_question": answer.standalone_question,
            "related": [p.to_dict() for p in answer.passages[:3]] if answer.refused else [],
        },
    }


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A whole chat.completion object."""
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": answer.text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **extra(answer),
    }


def _chunk(ident: str, model: str, delta: dict[str, Any], finish: str | None = None, **more: Any) -> str:
    body = {
        "id": ident,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **more,
    }
    return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"


def stream_chunks(events: Iterator[Any], final: Any, model: str) -> Iterator[str]:
    """Server-sent chunks: the text as it is written, then one with the finish reason and the citations.

    When the finished answer differs from what was streamed (an LLM answer that failed its checks and fell
    back), the rest is sent after a rule: what follows it is the answer to rely on.
    """
    ident = f"chatcmpl-{uuid.uuid4().hex}"
    yield _chunk(ident, model, {"role": "assistant", "content": ""})
    sent = ""
    for event in events:
        if isinstance(event, Delta) and event.text:
            sent += event.text
            yield _chunk(ident, model, {"content": event.text})
    answer = final()
    if answer.text != sent:
        rest = answer.text[len(sent) :] if answer.text.startswith(sent) else f"\n\n---\n\n{answer.text}"
        yield _chunk(ident, model, {"content": rest})
    yield _chunk(ident, model, {}, "stop", **extra(answer))
    yield "data: [DONE]\n\n"


def router(bases: KnowledgeBases, access: Access, settings: Settings) -> APIRouter:
    """The /v1 routes over the knowledge bases, guarded by the API keys."""
    from fastapi.responses import JSONResponse, StreamingResponse

    routes = APIRouter(prefix="/v1")
    slots = threading.BoundedSemaphore(settings.web_concurrency)

    def check(request: Request) -> None:
        if access.api_open or access.api_key_ok(request.headers.get("authorization")):
            return
        hint = "" if access.has_keys else " (none is configured: set ADVISOR_API_KEYS)"
        raise ApiError(401, f"a valid API key is required{hint}", "invalid_api_key", "authentication_error")

    def fail(error: ApiError) -> JSONResponse:
        return JSONResponse(error.body, status_code=error.status)

    @routes.get("/models")
    def models(request: Request) -> Any:
        try:
            check(request)
        except ApiError as error:
            return fail(error)
        data = [
            {"id": model_name(kb), "object": "model", "created": 0, "owned_by": "advisor"}
            for kb in bases.names()
        ]
        return {"object": "list", "data": data}

    @routes.post("/chat/completions")
    async def chat_completions(request: Request) -> Any:
        try:
            check(request)
            raw = await _read_capped(request)
            try:
                body = json.loads(raw)
            except ValueError:
                raise ApiError(400, "the body is not JSON", "invalid_json") from None
            if not isinstance(body, dict):
                raise ApiError(400, "the body must be a JSON object", "invalid_json")
            question, history = to_question(body.get("messages"))
            kb = kb_of(body, bases.names())
            prepare_question(question, settings.max_question_chars)  # refused here, before any stream starts
        except ApiError as error:
            return fail(error)
        except QuestionError as exc:
            return fail(ApiError(400, str(exc), "invalid_question"))
        model = model_name(kb)
        if body.get("stream"):
            chunks = _streamed(bases, kb, question, history, model, slots)
            return StreamingResponse(chunks, media_type="text/event-stream")
        from starlette.concurrency import run_in_threadpool

        answer = await run_in_threadpool(_answer, bases, kb, question, history, slots)
        return completion(answer, model)

    return routes


async def _read_capped(request: Request) -> bytes:
    """The request body, refused (413) as soon as it passes MAX_BODY: never read whole into memory first."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "the request is too large", "request_too_large")
    body = bytearray()
    async for piece in request.stream():
        body += piece
        if len(body) > MAX_BODY:
            raise ApiError(413, "the request is too large", "request_too_large")
    return bytes(body)


def _answer(
    bases: KnowledgeBases, kb: str, question: str, history: list[Turn], slots: threading.BoundedSemaphore
) -> Answer:
    with slots:
        return bases.core(kb).ask(question, history=history)


def _streamed(
    bases: KnowledgeBases,
    kb: str,
    question: str,
    history: list[Turn],
    model: str,
    slots: threading.BoundedSemaphore,
) -> Iterator[str]:
    """The stream of one answer, holding a slot of the web concurrency while it is written."""
    with slots:
        stream = bases.core(kb).stream(question, history=history)
        yield from stream_chunks(stream.events(), lambda: stream.answer, model)
