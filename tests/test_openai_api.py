"""The OpenAI-compatible API through the real `openai` client, on a real server on 127.0.0.1 (scripted cores)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import pytest
from pydantic import SecretStr

from advisor.auth import Access, UserRecord, hash_password, write_users
from advisor.config import Settings
from advisor.web.openai_api import router, to_question
from tests.fakes.core import FakeCore, answer

pytestmark = pytest.mark.integration


class Bases:
    """Two knowledge bases, each a scripted core."""

    def __init__(self) -> None:
        self.cores = {"": FakeCore(pieces=4), "harbor": FakeCore()}

    def names(self) -> list[str]:
        return list(self.cores)

    def core(self, kb: str) -> FakeCore:
        return self.cores[kb]


@contextmanager
def serving(bases: Bases, settings: Settings) -> Iterator[str]:
    """The /v1 routes under uvicorn on a free port; yields the base URL the openai client takes."""
    import fastapi
    import uvicorn

    app = fastapi.FastAPI()
    app.include_router(router(bases, Access(settings), settings))  # type: ignore[arg-type]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def client(url: str, key: str = "none") -> openai.OpenAI:
    return openai.OpenAI(base_url=url, api_key=key, max_retries=0, timeout=20)


@pytest.fixture
def bases() -> Bases:
    return Bases()


def test_a_completion_keeps_its_markers_and_brings_its_citations(bases: Bases) -> None:
    bases.cores[""].enqueue(answer("Clusters share suppliers.[1]"))
    with serving(bases, Settings()) as url:
        reply = client(url).chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": "What do clusters share?"}]
        )
    assert reply.choices[0].message.content == "Clusters share suppliers.[1]"
    assert reply.choices[0].finish_reason == "stop" and reply.model == "advisor"
    citations = (reply.model_extra or {})["citations"]
    assert citations == [answer().citations[0].to_dict()] and citations[0]["location"] == "corpus/doc.md:3-4"


def test_a_stream_arrives_in_pieces_and_ends_with_the_citations(bases: Bases) -> None:
    bases.cores[""].enqueue(answer("Clusters share suppliers and labour.[1]"))
    with serving(bases, Settings()) as url:
        chunks = list(
            client(url).chat.completions.create(
                model="advisor",
                messages=[{"role": "user", "content": "What do clusters share?"}],
                stream=True,
            )
        )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert text == "Clusters share suppliers and labour.[1]" and len(chunks) >= 5
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["citations"][0]["n"] == 1


def test_earlier_messages_become_the_conversation_a_follow_up_leans_on(bases: Bases) -> None:
    bases.cores[""].enqueue(answer())
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "What is a cluster?"},
        {"role": "assistant", "content": "An organised network.[1]"},
        {"role": "user", "content": [{"type": "text", "text": "and its suppliers?"}]},
    ]
    with serving(bases, Settings()) as url:
        client(url).chat.completions.create(model="advisor", messages=messages)  # type: ignore[arg-type]
    assert bases.cores[""].calls == [
        ("and its suppliers?", (("What is a cluster?", "An organised network.[1]"),))
    ]


def test_the_model_chooses_the_knowledge_base(bases: Bases) -> None:
    bases.cores["harbor"].enqueue(answer("Harbor Lane trains welders.[1]"))
    with serving(bases, Settings()) as url:
        api = client(url)
        assert [m.id for m in api.models.list()] == ["advisor", "advisor:harbor"]
        reply = api.chat.completions.create(
            model="advisor:harbor", messages=[{"role": "user", "content": "Who?"}]
        )
        assert reply.choices[0].message.content == "Harbor Lane trains welders.[1]"
        with pytest.raises(openai.NotFoundError):
            api.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Who?"}])
        with pytest.raises(openai.NotFoundError):
            api.chat.completions.create(
                model="advisor:nowhere", messages=[{"role": "user", "content": "Who?"}]
            )
    assert bases.cores[""].calls == []


def test_bad_requests_get_clear_errors(bases: Bases) -> None:
    with serving(bases, Settings()) as url:
        api = client(url)
        with pytest.raises(openai.BadRequestError, match="question"):
            api.chat.completions.create(model="advisor", messages=[{"role": "user", "content": "？？？"}])
        with pytest.raises(openai.BadRequestError, match="last message"):
            api.chat.completions.create(model="advisor", messages=[{"role": "assistant", "content": "hi"}])


def test_a_huge_request_is_refused_before_it_is_read(bases: Bases) -> None:
    import httpx

    with serving(bases, Settings()) as url:
        big = b'{"messages": [{"role": "user", "content": "' + b"x" * (2 * 1024 * 1024) + b'"}]}'
        reply = httpx.post(
            f"{url}/chat/completions", content=big, headers={"content-type": "application/json"}
        )
        chunked = httpx.post(f"{url}/chat/completions", content=iter([big[:1024], big[1024:]]))
    assert reply.status_code == chunked.status_code == 413
    assert reply.json()["error"]["code"] == "request_too_large" and bases.cores[""].calls == []


def test_with_keys_configured_a_request_needs_one(bases: Bases) -> None:
    bases.cores[""].enqueue(answer())
    settings = Settings(api_keys=SecretStr("key-1,key-2"))
    with serving(bases, settings) as url:
        for wrong in ("none", "key-3", "key-1,key-2"):
            with pytest.raises(openai.AuthenticationError):
                client(url, wrong).models.list()
        with pytest.raises(openai.AuthenticationError):
            client(url, "nope").chat.completions.create(
                model="advisor", messages=[{"role": "user", "content": "What is a cluster?"}]
            )
        assert bases.cores[""].calls == []
        reply = client(url, "key-2").chat.completions.create(
            model="advisor", messages=[{"role": "user", "content": "What is a cluster?"}]
        )
        assert reply.choices[0].message.content


def test_with_a_login_and_no_keys_the_api_stays_closed(bases: Bases, tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    write_users(users, {"alice": UserRecord(hash_password("alice-pass"))})
    with (
        serving(bases, Settings(users_file=users)) as url,
        pytest.raises(openai.AuthenticationError, match="ADVISOR_API_KEYS"),
    ):
        client(url, "alice-pass").models.list()


def test_messages_map_to_history_pairs() -> None:
    question, history = to_question(
        [
            {"role": "user", "content": "q1"},
            {"role": "user", "content": "q2"},
            {"role": "assistant", "content": "a2"},
            {"role": "tool", "content": "ignored"},
            {"role": "user", "content": "q3"},
        ]
    )
    assert question == "q3" and history == [("q2", "a2")]


def test_a_streamed_fallback_replaces_what_was_sent() -> None:
    from advisor.schema import Delta
    from advisor.web.openai_api import stream_chunks

    final = answer("The extractive answer.[1]")
    lines: list[Any] = list(stream_chunks(iter([Delta("A model's ans")]), lambda: final, "advisor"))
    assert "---" in lines[-3] and "The extractive answer.[1]" in lines[-3] and lines[-1] == "data: [DONE]\n\n"
