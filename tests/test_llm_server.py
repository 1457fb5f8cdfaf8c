"""The real langchain-openai and langchain-ollama clients against a fake server on 127.0.0.1.

Streaming (SSE / NDJSON) and plain replies, retries on 5xx, deadlines, garbage, invented citations, and the
API key never showing up anywhere. Retrieval uses the hash embedder on real Chroma; the evidence check is
forced open so these tests are about the model path only.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.schema import Answer, Verdict

from .fakes.openai_server import FakeLLMServer, Reply

pytestmark = pytest.mark.integration

KEY = "sk-test-DO-NOT-LEAK-8d1f2a"
GOOD = "集群是有组织的共生网络【1】，而集聚只是地理上的集中[2]。"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    advisor = Advisor(Settings(home=tmp_path_factory.mktemp("llm-home")), embedders=[HashEmbedder()])
    advisor.ingest()
    return advisor


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "OPENAI_PROXY",
    ):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 only, never through a proxy
    with FakeLLMServer() as fake:
        yield fake


def configure(advisor: Advisor, monkeypatch: pytest.MonkeyPatch, **llm: Any) -> Advisor:
    """The shared index with this test's model settings; the evidence check always lets the model answer."""
    advisor.settings = advisor.settings.model_copy(
        update={"llm_model": "fake-model", "llm_timeout_s": 5.0, "llm_retries": 2, **llm}
    )
    advisor._llm.clear()
    monkeypatch.setattr(advisor, "gate", lambda *a, **k: Verdict(True))
    return advisor


def openai(advisor: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, **llm: Any) -> Advisor:
    from pydantic import SecretStr

    return configure(advisor, monkeypatch, llm_base_url=server.openai_url, llm_api_key=SecretStr(KEY), **llm)


def ollama(advisor: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, **llm: Any) -> Advisor:
    return configure(advisor, monkeypatch, llm_base_url=server.ollama_url, **llm)


def ask(
    advisor: Advisor, backend: str, question: str = "产业集聚和产业集群有什么区别？", **kw: Any
) -> tuple[list[str], Answer]:
    stream = advisor.stream(question, backend=backend, **kw)
    deltas = list(stream)
    return deltas, stream.answer


# --- OpenAI-compatible ------------------------------------------------------------------------------


def test_openai_streams_a_cited_answer(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(GOOD)
    deltas, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert len(deltas) > 3 and "".join(deltas).strip() == answer.text
    assert answer.text == "集群是有组织的共生网络[1]，而集聚只是地理上的集中[2]。"
    assert answer.backend == "openai" and answer.fallback is None and not answer.refused
    assert [c.passage for c in answer.citations] == list(answer.passages[:2])
    request = server.requests[-1]
    assert request.path == "/v1/chat/completions" and request.body["stream"] is True
    assert request.body["model"] == "fake-model" and request.headers["authorization"] == f"Bearer {KEY}"
    assert [m["role"] for m in request.body["messages"]] == ["system", "user"]
    assert "<passages>" in request.prompt and answer.passages[0].chunk.text in request.prompt


def test_openai_plain_reply_rewrites_a_follow_up(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue("产业集聚有哪些特点？", "产业集聚只是地理上的集中[1]。")
    history = [("产业集聚和产业集群有什么区别？", "集群是网络[1]，集聚是集中[2]。")]
    _, answer = ask(openai(indexed, server, monkeypatch), "openai", "那第二种呢？", history=history)
    condense, generate = server.requests[-2:]
    assert not condense.body.get("stream") and generate.body["stream"] is True
    assert "那第二种呢？" in condense.prompt and "产业集聚和产业集群有什么区别？" in condense.prompt
    assert answer.standalone_question == "产业集聚有哪些特点？" and "产业集聚有哪些特点？" in generate.prompt
    assert answer.to_dict()["standalone_question"] == "产业集聚有哪些特点？"


def test_openai_5xx_is_retried(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(status=500), Reply(status=503), GOOD)
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.backend == "openai" and answer.fallback is None and len(server.requests) == 3


def test_openai_that_keeps_failing_falls_back_and_never_shows_the_key(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.enqueue(Reply(status=500), Reply(status=502), Reply(status=429))
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.backend == "extractive" and answer.fallback == "http_429" and answer.citations
    assert any("HTTP 429" in n for n in answer.notices) and len(server.requests) == 3
    assert KEY in server.requests[0].headers["authorization"]  # it was sent, and the server echoed it back
    everything = (
        json.dumps(answer.to_dict(), ensure_ascii=False) + caplog.text + repr(indexed.llm("openai").__dict__)
    )
    assert KEY not in everything


def test_a_rejected_key_is_not_retried(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(status=401))
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.fallback == "auth_error" and len(server.requests) == 1
    assert KEY not in json.dumps(answer.to_dict())


def test_openai_timeout_is_bounded_by_the_total_deadline(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(GOOD, delay_s=6))
    started = time.monotonic()
    _, answer = ask(openai(indexed, server, monkeypatch, llm_timeout_s=1.0), "openai")
    assert time.monotonic() - started < 3.0
    assert answer.fallback == "timeout" and answer.backend == "extractive"


def test_a_slow_trickle_of_tokens_is_cut_at_the_deadline(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(GOOD * 5, chunk_delay_s=0.2))
    started = time.monotonic()
    deltas, answer = ask(openai(indexed, server, monkeypatch, llm_timeout_s=1.0), "openai")
    assert time.monotonic() - started < 3.0
    assert deltas and answer.fallback == "timeout"  # streamed text is replaced by the final Answer


@pytest.mark.parametrize("backend", ["openai", "ollama"])
def test_a_429_with_retry_after_is_retried_after_the_servers_wait(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    server.enqueue(Reply(status=429, headers={"Retry-After": "1"}), GOOD)
    configured = (openai if backend == "openai" else ollama)(indexed, server, monkeypatch)
    _, answer = ask(configured, backend)
    assert answer.backend == backend and answer.fallback is None and len(server.requests) == 2
    assert server.requests[1].at - server.requests[0].at >= 1.0  # the server's 1 s, not our 0.5 s backoff


def test_a_retry_after_past_the_deadline_falls_back_at_once(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(status=429, headers={"Retry-After": "30"}))
    started = time.monotonic()
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert time.monotonic() - started < 2.0 and len(server.requests) == 1
    assert answer.fallback == "rate_limited" and answer.backend == "extractive" and answer.citations
    assert any("限流" in n for n in answer.notices), answer.notices


def _connections_to(port: int) -> int:
    """Open TCP sockets of this process whose far end is `port` (read from /proc: Linux only)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(
        1 for row in rows if int(row.split()[2].split(":")[1], 16) == port and row.split()[9] in inodes
    )


def _threads() -> int:
    """Threads of this process, less the fake server's own request handlers."""
    return sum(1 for t in threading.enumerate() if "process_request" not in t.name)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="counts sockets through /proc")
def test_timed_out_questions_leave_no_thread_or_socket_behind(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The server answers at once and then only sends ": keep-alive" for 30 s, as DeepSeek does while a
    # request waits: no HTTP read timeout ever fires, so only cancelling the request ends it.
    server.default = Reply(GOOD, delay_s=30, keepalive=True)
    openai(indexed, server, monkeypatch, llm_timeout_s=0.4)
    ask(indexed, "openai")  # the first question starts the event loop's one thread
    threads = _threads()
    for _ in range(20):
        _, answer = ask(indexed, "openai")
        assert answer.fallback == "timeout" and answer.backend == "extractive"
    assert _connections_to(server.port) == 0
    assert _threads() <= threads + 1


def test_openai_garbage_output_falls_back(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(garbage=True), Reply(garbage=True), Reply(garbage=True))
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.fallback in ("malformed_output", "empty_output") and answer.backend == "extractive"


def test_openai_citing_a_passage_that_does_not_exist(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert indexed.settings.top_k == 5
    server.enqueue("集群是有组织的共生网络[1]。园区都应该补贴一切[9]。")
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.dropped_citations == 1 and "[9]" not in answer.text and answer.fallback is None
    server.enqueue("园区都应该补贴一切[9]。")
    _, answer = ask(openai(indexed, server, monkeypatch), "openai")
    assert answer.fallback == "no_valid_citations" and answer.backend == "extractive"
    assert answer.to_dict()["dropped_citations"] == 1


def test_connection_refused_falls_back_quickly(indexed: Advisor, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    configure(indexed, monkeypatch, llm_base_url=f"http://127.0.0.1:{port}/v1", llm_retries=1)
    started = time.monotonic()
    _, answer = ask(indexed, "openai")
    assert time.monotonic() - started < 4.0
    assert answer.fallback == "connection_error" and answer.citations


# --- Ollama -----------------------------------------------------------------------------------------


def test_ollama_streams_a_cited_answer(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue("A cluster is an organised network [1]; agglomeration is only co-location [2].")
    deltas, answer = ask(
        ollama(indexed, server, monkeypatch),
        "ollama",
        "What is the difference between a cluster and an agglomeration?",
    )
    assert len(deltas) > 3 and answer.backend == "ollama" and answer.fallback is None
    assert answer.prompt is not None and answer.prompt.startswith("answer.en@")
    request = server.requests[-1]
    assert request.path == "/api/chat" and request.body["model"] == "fake-model"
    assert "Answer in English" in request.prompt


@pytest.mark.parametrize(
    ("reply", "reason"), [(Reply(status=500), "http_500"), (Reply(garbage=True), "malformed_output")]
)
def test_ollama_failures_fall_back(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch, reply: Reply, reason: str
) -> None:
    server.enqueue(reply, reply, reply)
    _, answer = ask(ollama(indexed, server, monkeypatch), "ollama")
    assert answer.fallback == reason and answer.backend == "extractive" and len(server.requests) == 3


def test_ollama_timeout_is_bounded(
    indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.enqueue(Reply(GOOD, delay_s=6))
    started = time.monotonic()
    _, answer = ask(ollama(indexed, server, monkeypatch, llm_timeout_s=1.0), "ollama")
    assert time.monotonic() - started < 3.0 and answer.fallback == "timeout"


def test_ollama_refusal(indexed: Advisor, server: FakeLLMServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.answer.messages import REFUSAL

    server.enqueue(REFUSAL["zh"])
    _, answer = ask(ollama(indexed, server, monkeypatch), "ollama")
    assert answer.refused and answer.text == REFUSAL["zh"] and answer.backend == "ollama"


# --- the command line, as a user runs it ------------------------------------------------------------


@pytest.mark.slow
def test_cli_ask_and_chat_with_an_openai_backend(isolated_home: Path, server: FakeLLMServer) -> None:
    from .test_cli import run

    env = {
        "ADVISOR_LLM_BASE_URL": server.openai_url,
        "ADVISOR_LLM_MODEL": "fake-model",
        "ADVISOR_LLM_API_KEY": KEY,
    }
    import os

    os.environ.update(env)
    try:
        server.enqueue("集群是有组织的共生网络[1]，集聚只是地理上的集中[2]。")
        out = run(
            "ask", "--backend", "openai", "--json", "产业集聚和产业集群有什么区别？", home=isolated_home
        )
        assert out.returncode == 0, out.stderr
        answer = json.loads(out.stdout)
        assert answer["backend"] == "openai" and answer["prompt"].startswith("answer.zh@")
        assert answer["citations"] and answer["fallback"] is None
        server.enqueue("集群是有组织的共生网络[1]。", "产业集聚是什么？", "集聚只是地理上的集中[1]。")
        out = run(
            "chat",
            "--backend",
            "openai",
            home=isolated_home,
            stdin="产业集聚和产业集群有什么区别？\n那第二种呢？\n\n",
        )
        assert out.returncode == 0, out.stderr
        assert "集聚只是地理上的集中[1]" in out.stdout and "产业集聚是什么？" in out.stdout
        out = run("ask", "--backend", "gpt", "x", home=isolated_home)
        assert out.returncode == 2 and "unknown backend" in out.stderr
        assert KEY not in out.stdout + out.stderr
    finally:
        for name in env:
            os.environ.pop(name, None)
