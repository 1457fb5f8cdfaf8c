"""The remote embeddings path, through the real langchain-openai client, against a fake server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed import default_embedders
from advisor.embed.fake import HashEmbedder
from advisor.embed.remote import RemoteEmbedder

pytestmark = pytest.mark.integration


class _Handler(BaseHTTPRequestHandler):
    """Answers POST /v1/embeddings like an OpenAI-compatible server, with hash vectors."""

    requests: ClassVar[list[dict[str, object]]] = []
    embedder = HashEmbedder(dim=32)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = self.embedder.embed_passages([str(t) for t in texts])
        payload = {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)
            ],
            "usage": {"prompt_tokens": 1, "total_tokens": 1},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Handler.requests = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_remote_embedder_sends_prefixed_text_and_normalises(server: str) -> None:
    embedder = RemoteEmbedder(server, "intfloat/multilingual-e5-small", api_key="sk-test-123")
    vectors = embedder.embed_passages(["產業集群", "cluster"])
    assert vectors.shape == (2, 32) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    embedder.embed_query("What is a cluster?")
    embedder.embed_query("What is a cluster?")  # cached: no second request
    inputs = [r["input"] for r in _Handler.requests]
    assert inputs == [["passage: 产业集群", "passage: cluster"], ["query: What is a cluster?"]]
    assert _Handler.requests[0]["auth"] == "Bearer sk-test-123"


def test_settings_switch_ingest_and_questions_to_the_remote_model(
    server: str, tmp_path: Path, corpus_copy: Path
) -> None:
    settings = Settings(
        home=tmp_path,
        corpus_dir=corpus_copy,
        embedding_url=server,
        embedding_model="bge-m3",
        cross_lingual_encoder="none",
    )
    embedders = default_embedders(settings)
    assert [e.key for e in embedders] == ["remote-bge-m3"]
    advisor = Advisor(settings, embedders=embedders)
    report = advisor.ingest()
    assert report.embedded == report.chunks and report.synced[0].collection == "chunks__remote-bge-m3"
    answer = advisor.ask("产业集聚和产业集群有什么区别？")
    assert answer.passages
    assert all(not str(r["input"]).startswith("['passage") for r in _Handler.requests)  # no e5 prefix for bge
