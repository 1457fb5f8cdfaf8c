"""The page's named API endpoints through gradio_client, against the same live server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveServer

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> Any:
    from gradio_client import Client

    return Client(live_server.url, verbose=False, download_files=False)


def test_endpoints_are_named(client: Any) -> None:
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/ask", "/upload", "/documents", "/remove_document", "/feedback"} <= names


def test_ask_returns_a_cited_answer_and_sources(client: Any) -> None:
    box, chat, sources = client.predict("产业集聚和产业集群有什么区别？", "zh", api_name="/ask")
    assert box == ""
    reply = chat[-1]["content"]
    text = reply if isinstance(reply, str) else str(reply)
    assert "[1]" in text
    assert 'class="src"' in sources and "corpus/" in sources


def test_upload_list_and_remove(client: Any, live_server: LiveServer, tmp_path: Path) -> None:
    from gradio_client import handle_file

    note = tmp_path / "ridgeway.txt"
    note.write_text(
        "Ridgeway Ceramic Park\n\nThe Ridgeway Ceramic Park runs a shared kiln for its small glaze makers.\n",
        encoding="utf-8",
    )
    status, *_ = client.predict([handle_file(str(note))], "en", api_name="/upload")
    assert "Added: Ridgeway Ceramic Park" in status.replace("\\", "")
    docs = client.predict(api_name="/documents")
    row = next(d for d in docs if d["title"] == "Ridgeway Ceramic Park")
    assert row["removable"] and row["source_file"] == "ridgeway.txt"
    corpus_row = next(d for d in docs if not d["removable"])

    status, *_ = client.predict(corpus_row["doc_id"], "en", api_name="/remove_document")
    assert "cannot be removed" in status
    status, *_ = client.predict(row["doc_id"], "en", api_name="/remove_document")
    assert "Removed" in status
    assert all(d["doc_id"] != row["doc_id"] for d in client.predict(api_name="/documents"))
    assert not list(live_server.settings.uploads_dir.glob("*.md"))
    assert not list(live_server.settings.web_temp_dir.rglob("ridgeway.txt"))  # the original is deleted


def test_upload_of_a_wrong_type_is_refused_and_deleted(
    client: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    bad = tmp_path / "tool.exe"
    bad.write_bytes(b"MZ\x00\x00")
    status, *_ = client.predict([handle_file_(bad)], "zh", api_name="/upload")
    assert "未能加入" in status and "tool.exe" in status and "不支持的文件类型" in status
    assert not list(live_server.settings.web_temp_dir.rglob("tool.exe"))


def handle_file_(path: Path) -> Any:
    from gradio_client import handle_file

    return handle_file(str(path))


def test_feedback_is_stored(client: Any, live_server: LiveServer) -> None:
    from advisor.feedback import FeedbackStore

    feedback_id = client.predict(
        "What is a cluster?", "A cluster is… [1]", "down", "[]", api_name="/feedback"
    )
    records = FeedbackStore(live_server.settings.feedback_path).list()
    assert any(r.id == feedback_id and r.rating == "down" for r in records)


def test_errors_reach_api_clients_as_clear_messages(client: Any, tmp_path: Path) -> None:
    broken = tmp_path / "plan.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Length 99 >> stream\nshort")
    status, *_ = client.predict([handle_file_(broken)], "zh", api_name="/upload")
    assert "plan.pdf" in status and "无法读取这个 PDF" in status and "Stream" not in status
    with pytest.raises(Exception, match="too large") as caught:
        client.predict("What is a cluster?", "x" * 60_000, "up", "[]", api_name="/feedback")
    assert "Traceback" not in str(caught.value) and "pydantic" not in str(caught.value).lower()
