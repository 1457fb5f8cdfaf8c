"""Every server dialect our users run, replayed from hand-written transcripts (tests/fixtures/llm/, each naming
its documentation) by a fake server on 127.0.0.1, through the whole path: the core, `advisor ask --json`,
`advisor chat` and the web page (a real Gradio server, driven with gradio_client).

In every dialect the thinking says "Okay, the user…" and names a passage [3] that the answer does not cite:
none of it may reach an answer, its citations, the JSON, the terminal or the page.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from typer.testing import CliRunner

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.schema import Answer, Delta, Thinking, Verdict

from .fakes.openai_server import FakeLLMServer, Reply

pytestmark = pytest.mark.integration

QUESTION = "产业集聚和产业集群有什么区别？"
ANSWER = "集群是有组织的共生网络[1]，集聚只是地理上的集中[2]。"
THOUGHTS = ("Okay, the user", "Passage [3]", "answer it directly", "cite both", "<think", "think>")


@dataclass(frozen=True)
class Dialect:
    transcript: str
    backend: str
    thinks: bool


DIALECTS = {
    "openai-include-usage": Dialect("openai_include_usage.sse", "openai", thinks=False),
    "deepseek-reasoning-content": Dialect("deepseek_reasoning.sse", "openai", thinks=True),
    "vllm-think-in-content": Dialect("vllm_think_in_content.sse", "openai", thinks=True),
    "ollama-ndjson-thinking": Dialect("ollama_chat_thinking.ndjson", "ollama", thinks=True),
    "keepalive-empty-choices": Dialect("keepalive_empty_choices.sse", "openai", thinks=False),
}


def no_thoughts(text: str) -> bool:
    return not any(t.lower() in text.lower() for t in THOUGHTS)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Advisor:
    advisor = Advisor(Settings(home=tmp_path_factory.mktemp("dialect-home")), embedders=[HashEmbedder()])
    advisor.ingest()
    advisor.gate = lambda *a, **k: Verdict(True)  # these tests are about the model path only
    return advisor


@pytest.fixture(scope="module")
def server() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as fake:
        yield fake


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # 127.0.0.1 only, never through a proxy


def speak(advisor: Advisor, server: FakeLLMServer, dialect: Dialect, **settings: Any) -> Advisor:
    """Point the shared index at the fake server, which answers the next request in `dialect`."""
    url = server.ollama_url if dialect.backend == "ollama" else server.openai_url
    advisor.settings = advisor.settings.model_copy(
        update={
            "llm_backend": dialect.backend,
            "llm_base_url": url,
            "llm_model": "fake-model",
            "llm_timeout_s": 5.0,
            **settings,
        }
    )
    advisor._llm.clear()
    server.replies.clear()
    server.enqueue(Reply(transcript=dialect.transcript))
    return advisor


def assert_clean(answer: Answer) -> None:
    """The model's answer, its own two citations in order, and no thinking anywhere in the JSON."""
    assert answer.fallback is None and answer.text == ANSWER, (answer.fallback, answer.text)
    assert [c.passage for c in answer.citations] == list(answer.passages[:2])  # not the thinking's [3]
    assert no_thoughts(json.dumps(answer.to_dict(), ensure_ascii=False))


# --- the core ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", DIALECTS)
def test_core_answers_every_dialect_without_its_thinking(
    indexed: Advisor, server: FakeLLMServer, name: str
) -> None:
    dialect = DIALECTS[name]
    stream = speak(indexed, server, dialect).stream(QUESTION)
    events = list(stream.events())
    answer = stream.answer
    assert_clean(answer)
    assert answer.backend == dialect.backend
    streamed = "".join(e.text for e in events if isinstance(e, Delta))
    assert streamed.strip() == ANSWER
    thinking = [i for i, e in enumerate(events) if isinstance(e, Thinking)]
    first_text = next(i for i, e in enumerate(events) if isinstance(e, Delta))
    assert bool(thinking) == dialect.thinks  # the page can say "thinking…", and only when it is true
    assert all(i < first_text for i in thinking)
    request = server.requests[-1]
    assert request.path == ("/api/chat" if dialect.backend == "ollama" else "/v1/chat/completions")
    assert "think" not in request.body and "chat_template_kwargs" not in request.body  # "auto" asks nothing


@pytest.mark.parametrize(
    "name", ["deepseek-reasoning-content", "vllm-think-in-content", "ollama-ndjson-thinking"]
)
def test_thinking_that_eats_the_deadline_falls_back_as_thinking_timeout(
    indexed: Advisor, server: FakeLLMServer, name: str
) -> None:
    dialect = DIALECTS[name]
    speak(indexed, server, dialect, llm_timeout_s=2.0)
    # One line each 0.6 s: the first thoughts arrive in time, the answer (the fifth line) after 2.4 s.
    server.replies[0] = Reply(transcript=dialect.transcript, chunk_delay_s=0.6)
    answer = indexed.ask(QUESTION)
    assert answer.fallback == "thinking_timeout" and answer.backend == "extractive"
    assert any("思考" in n and "超时" in n for n in answer.notices), answer.notices
    assert no_thoughts(json.dumps(answer.to_dict(), ensure_ascii=False))


@pytest.mark.parametrize("name", ["vllm-think-in-content", "ollama-ndjson-thinking"])
def test_the_no_thinking_setting_asks_the_server_not_to_think(
    indexed: Advisor, server: FakeLLMServer, name: str
) -> None:
    dialect = DIALECTS[name]
    assert_clean(speak(indexed, server, dialect, llm_thinking="off").ask(QUESTION))
    body = server.requests[-1].body
    if dialect.backend == "ollama":
        assert body["think"] is False
    else:
        assert body["chat_template_kwargs"] == {"enable_thinking": False} and body["enable_thinking"] is False


def test_a_rewrite_from_a_thinking_model_keeps_only_the_question(
    indexed: Advisor, server: FakeLLMServer
) -> None:
    speak(indexed, server, DIALECTS["vllm-think-in-content"])
    server.replies.insert(
        0, Reply("<think>Okay, the user means agglomeration.</think>\n\n产业集聚有哪些特点？")
    )
    history = [(QUESTION, "集群是网络[1]，集聚是集中[2]。")]
    answer = indexed.ask("那第二种呢？", history=history)
    assert answer.standalone_question == "产业集聚有哪些特点？"
    assert_clean(answer)


# --- the command line -------------------------------------------------------------------------------


@pytest.fixture
def cli(indexed: Advisor, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """`advisor` in-process on the shared index; the command's own settings choose the backend."""
    import advisor.cli.shared

    def shared(settings: Settings) -> Advisor:
        indexed.settings = indexed.settings.model_copy(update={"llm_backend": settings.llm_backend})
        indexed._llm.clear()
        return indexed

    monkeypatch.setattr(advisor.cli.shared, "open_advisor", shared)
    return CliRunner()


@pytest.mark.parametrize("name", DIALECTS)
def test_ask_json_in_every_dialect(
    indexed: Advisor, server: FakeLLMServer, cli: CliRunner, name: str
) -> None:
    from advisor.cli import app

    dialect = DIALECTS[name]
    speak(indexed, server, dialect)
    out = cli.invoke(app, ["ask", "--backend", dialect.backend, "--json", QUESTION])
    assert out.exit_code == 0, out.output
    answer = json.loads(out.stdout)
    assert answer["backend"] == dialect.backend and answer["answer"] == ANSWER and answer["fallback"] is None
    assert [c["n"] for c in answer["citations"]] == [1, 2] and no_thoughts(out.output)


@pytest.mark.parametrize("name", DIALECTS)
def test_chat_in_every_dialect(indexed: Advisor, server: FakeLLMServer, cli: CliRunner, name: str) -> None:
    from advisor.cli import app

    dialect = DIALECTS[name]
    speak(indexed, server, dialect)
    out = cli.invoke(app, ["chat", "--backend", dialect.backend], input=f"{QUESTION}\n\n")
    assert out.exit_code == 0, out.output
    assert ANSWER in out.stdout and dialect.backend in out.stdout and no_thoughts(out.output)


# --- the web page -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page(indexed: Advisor) -> Iterator[Any]:
    """The real page on 127.0.0.1 over the shared index, and a gradio_client on it."""
    from gradio_client import Client

    from advisor.web.server import create, launch

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    running = launch(create(indexed.settings, indexed), "127.0.0.1", port, block=False)
    assert running is not None
    try:
        yield Client(running.url, verbose=False, download_files=False)
    finally:
        running.close()


@pytest.mark.parametrize("name", DIALECTS)
def test_the_page_in_every_dialect(indexed: Advisor, server: FakeLLMServer, page: Any, name: str) -> None:
    dialect = DIALECTS[name]
    speak(indexed, server, dialect)
    server.replies[0] = Reply(transcript=dialect.transcript, chunk_delay_s=0.05)  # time to show each state
    page.reset_session()  # a new visitor: no earlier turns to rewrite this question against
    job = page.submit(QUESTION, "zh", api_name="/ask")
    _, chat, sources = job.result(timeout=60)
    updates = [json.dumps(o, ensure_ascii=False) for o in job.outputs()]
    assert len(updates) > 2 and all(no_thoughts(u) for u in updates)  # never, not even while streaming
    reply = str(chat[-1]["content"])
    assert "集群是有组织的共生网络" in reply and "[2]" in reply and no_thoughts(sources)
    shown_thinking = any("思考中" in u for u in updates)
    assert shown_thinking == dialect.thinks
