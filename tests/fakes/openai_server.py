"""A scriptable fake LLM server on 127.0.0.1 speaking both the OpenAI chat-completions and Ollama /api/chat protocols.

Queue replies with `enqueue()`; each request takes the next one (or `default`, or what `responder` says).
Every request is recorded (`requests`), so tests can see what the client sent. Replies can be streamed (SSE
for OpenAI, NDJSON for Ollama), fail with an HTTP status and headers (the error message echoes the
Authorization header, as real servers sometimes do, to prove the key never leaks), stall past a timeout
(sending SSE keep-alive comments meanwhile, if asked), return garbage, or replay a server's own dialect
from a transcript in tests/fixtures/llm/ (`Reply(transcript="deepseek_reasoning.sse")`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

TRANSCRIPTS = Path(__file__).resolve().parent.parent / "fixtures" / "llm"


@dataclass(frozen=True)
class Reply:
    """What the server answers to one request."""

    text: str = ""
    status: int = 200
    delay_s: float = 0.0  # before the first byte
    chunk_delay_s: float = 0.0  # between streamed chunks
    garbage: bool = False  # a 200 with a body no client can parse
    chunk_chars: int = 3  # small chunks, so citation markers arrive split across deltas
    headers: dict[str, str] = field(default_factory=dict)  # e.g. {"Retry-After": "1"} on a 429
    keepalive: bool = False  # stream: during delay_s, send ": keep-alive" SSE comments as DeepSeek does
    transcript: str = ""  # stream: replay this file of tests/fixtures/llm/, one line per chunk_delay_s


def transcript_lines(name: str) -> list[str]:
    """The wire lines of a transcript: its '#' header (where it comes from) is not part of the reply."""
    text = (TRANSCRIPTS / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if not line.startswith("#")]


@dataclass
class Request:
    path: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def prompt(self) -> str:
        """All message contents of the request, joined (what the model was shown)."""
        return "\n".join(str(m.get("content", "")) for m in self.body.get("messages", []))


class FakeLLMServer:
    """Start with `with FakeLLMServer() as server:`; point clients at `server.openai_url` / `server.ollama_url`."""

    def __init__(
        self, default: Reply | None = None, responder: Callable[[Request], Reply] | None = None
    ) -> None:
        self.default = default or Reply("A cluster is an organised network of firms [1].")
        self.responder = responder  # answers every request that finds the queue empty
        self.replies: list[Reply] = []
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def openai_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def ollama_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply | str) -> None:
        with self._lock:
            self.replies.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self.replies:
                return self.replies.pop(0)
        return self.responder(request) if self.responder is not None else self.default

    def __enter__(self) -> FakeLLMServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one response per connection; a stream ends when the socket closes

            def log_message(self, format: str, *args: Any) -> None:  # quiet test output
                return

            def do_GET(self) -> None:
                self._json(200, {"models": [], "object": "list", "data": []})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    body = {}
                request = Request(self.path, body, {k.lower(): v for k, v in self.headers.items()})
                reply = server._next(request)
                ollama = self.path.startswith("/api/")
                streams = body.get("stream", ollama)  # Ollama streams unless told not to
                if not (streams and reply.keepalive):
                    time.sleep(reply.delay_s)
                if reply.status >= 400:
                    said = self.headers.get("Authorization", "")
                    message = f"server error; you sent {said!r}"
                    self._json(
                        reply.status,
                        {"error": message} if ollama else {"error": {"message": message}},
                        reply.headers,
                    )
                elif reply.garbage:
                    self._raw(200, "application/json", b"<html>502 Bad Gateway {{{")
                elif streams and reply.transcript:
                    self._replay(reply)
                elif streams:
                    self._stream(reply, ollama, body.get("model", "fake"))
                else:
                    self._json(
                        200, _ollama_done(reply.text, body) if ollama else _completion(reply.text, body)
                    )

            def _json(
                self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None
            ) -> None:
                self._raw(status, "application/json", json.dumps(payload).encode(), headers)

            def _raw(
                self, status: int, content_type: str, data: bytes, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def _replay(self, reply: Reply) -> None:
                ndjson = reply.transcript.endswith(".ndjson")
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson" if ndjson else "text/event-stream")
                self.end_headers()
                try:
                    for line in transcript_lines(reply.transcript):
                        self.wfile.write(line.encode() + b"\n")
                        self.wfile.flush()
                        if line.strip():
                            time.sleep(reply.chunk_delay_s)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a deadline): fine

            def _stream(self, reply: Reply, ollama: bool, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson" if ollama else "text/event-stream")
                self.end_headers()
                try:
                    self._keep_alive(reply)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up while we stalled: what a cancelled question does
                pieces = [
                    reply.text[i : i + reply.chunk_chars]
                    for i in range(0, len(reply.text), reply.chunk_chars)
                ]
                try:
                    for piece in pieces:
                        if ollama:
                            line = {
                                "model": model,
                                "created_at": _NOW,
                                "message": {"role": "assistant", "content": piece},
                                "done": False,
                            }
                            self.wfile.write(json.dumps(line).encode() + b"\n")
                        else:
                            self.wfile.write(b"data: " + json.dumps(_chunk(piece, model)).encode() + b"\n\n")
                        self.wfile.flush()
                        time.sleep(reply.chunk_delay_s)
                    if ollama:
                        self.wfile.write(json.dumps(_ollama_done("", {"model": model})).encode() + b"\n")
                    else:
                        self.wfile.write(b"data: " + json.dumps(_chunk(None, model)).encode() + b"\n\n")
                        self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a deadline): fine

            def _keep_alive(self, reply: Reply) -> None:
                until = time.monotonic() + (reply.delay_s if reply.keepalive else 0.0)
                while time.monotonic() < until:
                    self.wfile.write(b": keep-alive\n\n")
                    self.wfile.flush()
                    time.sleep(0.05)

        return Handler


_NOW = "2025-01-01T00:00:00Z"


def _chunk(piece: str | None, model: str) -> dict[str, Any]:
    delta = {"role": "assistant", "content": piece} if piece is not None else {}
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": None if piece is not None else "stop"}],
    }


def _completion(text: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake"),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _ollama_done(text: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "model": body.get("model", "fake"),
        "created_at": _NOW,
        "message": {"role": "assistant", "content": text},
        "done": True,
        "done_reason": "stop",
        "total_duration": 1,
        "load_duration": 1,
        "prompt_eval_count": 1,
        "prompt_eval_duration": 1,
        "eval_count": 1,
        "eval_duration": 1,
    }


if __name__ == "__main__":  # for trying advisor by hand: python -m tests.fakes.openai_server "reply [1]"
    import sys

    with FakeLLMServer(
        Reply(" ".join(sys.argv[1:]) or "A cluster is an organised network of firms [1].")
    ) as s:
        print(f"OpenAI-compatible: {s.openai_url}   Ollama: {s.ollama_url}   (Ctrl-C stops)", flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
