"""The page's handlers driven without a browser: a scripted core, the real feedback store and library code."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gradio as gr
import pytest

from advisor.answer.question import QuestionError
from advisor.auth import Access
from advisor.conversations import ConversationStore
from advisor.documents import Step
from advisor.feedback import FeedbackStore, RateLimiter
from advisor.i18n import t
from advisor.knowledge import KnowledgeBases
from advisor.web import chat, library_tab, rating
from advisor.web.app import build_app
from advisor.web.updates import bind
from tests.fakes.core import FakeCore, answer


def run(updates: Any) -> list[dict[str, Any]]:
    return list(updates)


def test_an_answer_streams_without_a_placeholder_then_shows_clean_text_and_sources() -> None:
    core = FakeCore(pieces=3)
    core.enqueue(answer())
    steps = run(chat.ask(core, None, "What do clusters share?", chat.Conversation(), "en"))
    # No "▍" placeholder reply (it carried 👍/👎 that did nothing): only the question, then the answer.
    assert steps[0]["chatbot"] == [{"role": "user", "content": "What do clusters share?"}]
    assert all(s["chatbot"][-1]["content"].endswith(" ▍") for s in steps[1:-1])
    final = steps[-1]
    shown = final["chatbot"][-1]["content"]
    assert shown == "Clusters share suppliers.[1]\n\nSources\n[1] Cluster basics — corpus/doc.md:3-4"
    conversation = final["conversation"]
    assert conversation.turns == (("What do clusters share?", "Clusters share suppliers.[1]"),)
    assert set(conversation.answers) == {1} and 'class="src"' in final["sources"]


def test_a_question_the_core_refuses_leaves_no_bubble_and_no_rating_buttons() -> None:
    core = FakeCore()
    core.enqueue(QuestionError("请输入一个问题。/ Please enter a question."))
    steps: list[dict[str, Any]] = []
    with pytest.raises(gr.Error, match="Please enter a question"):
        for step in chat.ask(core, None, "？？？", chat.Conversation(), "en"):
            steps.append(step)
    assert steps[-1]["chatbot"] == [] and steps[-1]["box"] == "？？？"


def test_new_chat_really_resets_and_the_next_question_has_no_history() -> None:
    core = FakeCore()
    core.enqueue(answer(), answer())
    first = run(chat.ask(core, None, "What about Paris?", chat.Conversation(), "en"))[-1]["conversation"]
    reset = chat.new_chat(chat.Conversation(owner="browser:x"), "en")
    assert reset["chatbot"] == [] and reset["conversation"] == chat.Conversation(owner="browser:x")
    assert reset["sources"] == chat.render.sources_html(None, "en")
    run(chat.ask(core, None, "and its suppliers?", reset["conversation"], "en"))
    assert first.turns and core.calls[-1] == ("and its suppliers?", ())


def test_the_profile_chooser_reaches_the_core_and_survives_a_new_chat() -> None:
    core = FakeCore()
    core.enqueue(answer(), answer(), answer())
    run(chat.ask(core, None, "How do I join a cluster?", chat.Conversation(), "en"))
    chosen = chat.choose_profile(chat.Conversation(owner="browser:x"), "sme")["conversation"]
    run(chat.ask(core, None, "How do I join a cluster?", chosen, "en"))
    assert core.profiles == [None, "sme"]
    kept = chat.new_chat(chosen, "en")["conversation"]
    assert kept.profile == "sme" and not kept.exchanges
    assert chat.choose_profile(chosen, "hacker")["conversation"].profile == ""  # only the known profiles
    run(
        chat.ask(
            core, None, "How do I join a cluster?", chat.choose_profile(chosen, "")["conversation"], "en"
        )
    )
    assert core.profiles[-1] is None


def test_an_example_after_a_turn_is_asked_afresh() -> None:
    core = FakeCore()
    core.enqueue(answer(), answer())
    after = run(chat.ask(core, None, "Tell me about Paris", chat.Conversation(), "en"))[-1]["conversation"]
    final = run(chat.ask_example(core, None, "What is an industrial ecosystem?", after, "en"))[-1]
    assert core.calls[-1] == ("What is an industrial ecosystem?", ())
    assert len(final["conversation"].turns) == 2  # the turn is remembered for follow-ups that come after


def page(core: FakeCore, tmp_path: Path) -> Any:
    """The real page over a fake core, its stores in tmp_path."""
    bases = KnowledgeBases(core.settings, core)  # type: ignore[arg-type]
    stores = ConversationStore(tmp_path / "c.sqlite"), FeedbackStore(tmp_path / "f.sqlite")
    return build_app(bases, *stores, Access(core.settings))


def test_the_trash_icon_and_new_chat_run_the_same_full_reset(tmp_path: Path) -> None:
    core = FakeCore()
    demo = page(core, tmp_path)
    wired = {fn.api_name: fn for fn in demo.fns.values() if fn.api_name in ("clear", "new_chat")}
    assert [event for _, event in wired["clear"].targets] == ["clear"]  # the chatbot's own trash icon
    assert wired["clear"].fn.__wrapped__ is wired["new_chat"].fn.__wrapped__ is chat.new_chat
    names = {fn.api_name for fn in demo.fns.values()}
    assert {"ask", "upload", "documents", "remove_document", "feedback"} <= names


def test_selecting_an_earlier_answer_shows_its_sources() -> None:
    core = FakeCore()
    core.enqueue(answer("First.[1]"))
    conversation = run(chat.ask(core, None, "q1", chat.Conversation(), "en"))[-1]["conversation"]
    assert "Cluster basics" in chat.show_sources(conversation, "en", SimpleNamespace(index=1))["sources"]
    assert chat.show_sources(conversation, "en", SimpleNamespace(index=0)) == {}


def _request(host: str = "10.0.0.5", forwarded: str | None = None) -> Any:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return SimpleNamespace(client=SimpleNamespace(host=host), headers=headers)


def test_rating_is_stored_once_per_answer_and_limited_per_client(tmp_path: Path) -> None:
    store, limiter = FeedbackStore(tmp_path / "f.sqlite"), RateLimiter(per_minute=1)
    core = FakeCore()
    core.enqueue(answer())
    conversation = run(chat.ask(core, None, "q", chat.Conversation(), "en"))[-1]["conversation"]
    like = SimpleNamespace(index=1, liked=True)
    rating.rate(store, limiter, conversation, "en", like, _request())
    rating.rate(
        store, limiter, conversation, "en", SimpleNamespace(index=0, liked=True), _request("10.0.0.6")
    )
    rating.rate(store, limiter, conversation, "en", like, _request())  # over the limit: a warning, not stored
    assert [r.rating for r in store.list()] == ["up"]


def test_feedback_api_caps_size_and_rate_with_clear_messages(tmp_path: Path) -> None:
    store, limiter = FeedbackStore(tmp_path / "f.sqlite"), RateLimiter(per_minute=2)
    assert rating.feedback_api(store, limiter, "q", "a [1]", "up", "[]", _request()) > 0
    with pytest.raises(gr.Error, match="too large"):
        rating.feedback_api(store, limiter, "q", "a" * 50_000, "up", "[]", _request("10.0.0.9"))
    with pytest.raises(gr.Error, match="JSON array"):
        rating.feedback_api(store, limiter, "q", "a", "up", '{"x": 1}', _request("10.0.0.8"))
    rating.feedback_api(store, limiter, "q", "a", "down", "[]", _request())
    with pytest.raises(gr.Error, match="too much feedback"):
        rating.feedback_api(store, limiter, "q", "a", "down", "[]", _request())
    assert len(store.list()) == 2


def test_clients_behind_a_local_proxy_are_told_apart() -> None:
    assert rating.client_key(_request("127.0.0.1", "203.0.113.7, 10.0.0.1")) == "203.0.113.7"
    assert rating.client_key(_request("198.51.100.2", "203.0.113.7")) == "198.51.100.2"  # not trusted
    assert rating.client_key(None) == "unknown"


def test_browser_language() -> None:
    assert chat.browser_lang("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert chat.browser_lang("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert chat.browser_lang(None) == "en"


def test_internal_errors_never_reach_the_client() -> None:
    def broken(lang: str) -> dict[str, Any]:
        raise FileNotFoundError(2, "No such file or directory", "/tmp/gradio/abc/x.pdf")

    fn, _ = bind(broken, ["status"], SimpleNamespace(status=object()))
    with pytest.raises(gr.Error) as caught:
        fn("en")
    assert "/tmp" not in caught.value.message and "Errno" not in caught.value.message
    assert caught.value.message == t("en", "internal_error")


class _Library:
    """Just enough of DocumentLibrary for the tab's handlers."""

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.removed: list[str] = []

    def library(self, kb: str) -> _Library:
        return self

    def add(self, path: Path, name: str, report: Any = None, owner: str | None = None) -> Any:
        report(Step("indexing", 0, 40, 12.0))
        if self.error:
            raise self.error
        return SimpleNamespace(title="Notes", chunks=3)

    def documents(self) -> list[Any]:
        return []

    def title_of(self, doc_id: str) -> str | None:
        return "Notes" if doc_id == "upload-000000000001" else None

    def remove(self, doc_id: str, report: Any = None, allowed: Any = None) -> str:
        self.removed.append(doc_id)
        return "Notes"


def test_an_upload_error_is_in_the_interface_language_and_the_original_is_deleted(tmp_path: Path) -> None:
    from advisor.documents import UploadError

    temp = tmp_path / "web-tmp"
    original = temp / "f00d" / "报告.docx"
    original.parent.mkdir(parents=True)
    original.write_bytes(b"PK")
    shown: list[str] = []
    library = _Library(UploadError("err_docx_bomb", name="报告.docx", limit=200, ratio=100))
    bar = lambda f, desc: shown.append(desc)  # noqa: E731
    out = library_tab.upload(library, temp, [str(original)], chat.Conversation(), "zh", None, bar)  # type: ignore[arg-type]
    assert "未能加入" in out["status"] and "报告.docx" in out["status"] and "200 MB" in out["status"]
    assert "Word file" not in out["status"] and ".upload-" not in out["status"]
    assert not original.exists() and not original.parent.exists() and temp.exists()
    assert shown == ["建立索引 · 约 40 个段落，预计 12 秒"]


def test_progress_lines_give_an_estimate_and_a_queue_position() -> None:
    assert library_tab.step_text(Step("waiting", ahead=2), "en").startswith("Queued: 2 ")
    line = library_tab.step_text(Step("indexing", 10, 40, 150.0), "en")
    assert line == "Indexing · 10/40 passages · about 2 min left"


def test_remove_asks_for_confirmation_first() -> None:
    library = _Library()
    conversation = chat.Conversation()
    asked = library_tab.ask_remove(library, "upload-000000000001", conversation, "en")  # type: ignore[arg-type]
    assert asked["confirm_row"]["visible"] is True and "Notes" in asked["confirm_text"]
    assert library.removed == []
    assert library_tab.ask_remove(library, None, conversation, "en")["status"] == t("en", "no_choice")  # type: ignore[arg-type]
    done = library_tab.remove(
        library, None, "upload-000000000001", conversation, "en", None, lambda *a, **k: None
    )  # type: ignore[arg-type]
    assert library.removed == ["upload-000000000001"] and done["confirm_row"]["visible"] is False
