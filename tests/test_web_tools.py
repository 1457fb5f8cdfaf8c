"""The tools around the chat, driven without a browser: the citation reader, regenerate, edit, stop, history,
export, suggestions and who may remove an upload. A scripted core; real stores."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from advisor.conversations import ConversationStore, Exchange
from advisor.schema import Answer, Chunk, Citation, Passage
from advisor.web import chat, history, reader
from advisor.web.app import user_line
from tests.fakes.core import FakeCore, answer


def run(updates: Any) -> list[dict[str, Any]]:
    return list(updates)


def chunk(n: int, text: str) -> Chunk:
    return Chunk(f"doc:{n}", "doc", "Cluster basics", "en", text, n, "corpus/doc.md", 10 * n + 1, 10 * n + 2)


DOCUMENT = [
    chunk(0, "An introduction to clusters."),
    chunk(1, "Clusters share suppliers. They also share a labour pool."),
    chunk(2, "A cluster needs an anchor firm. Anchors train the workforce."),
]


def two_citations() -> Answer:
    cited = (Citation(1, Passage(DOCUMENT[1], 0.9)), Citation(2, Passage(DOCUMENT[2], 0.8)))
    text = "Clusters share suppliers.[1]\n- Anchors train the workforce.[2]"
    return Answer(
        "q", "en", text, False, "extractive", cited, tuple(c.passage for c in cited), {"total": 1.0}
    )


def conversation_with(*answers: Answer, owner: str | None = None) -> chat.Conversation:
    return chat.Conversation(tuple(Exchange(f"question {i}", a) for i, a in enumerate(answers)), owner=owner)


# --- the citation reader --------------------------------------------------------------------------------
def test_a_click_on_n_opens_the_whole_document_with_the_quoted_sentence_marked() -> None:
    core = FakeCore(documents={"doc": DOCUMENT})
    conversation = conversation_with(answer(), two_citations())
    shown = reader.open_citation(core, conversation, "en", "1:2:1712345678")
    html = shown["reader"]
    assert all(c.text.split(".")[0] in html for c in DOCUMENT)  # the whole document, in order
    assert '<mark class="cite-mark">Anchors train the workforce</mark>' in html
    assert html.index("An introduction") < html.index("doc-cited") and "Citation 2 of 2" in html
    assert shown["reader_at"] == reader.ReaderAt(1, 2) and shown["sources"]["visible"] is False
    assert shown["reader_prev"]["interactive"] is True and shown["reader_next"]["interactive"] is False


def test_previous_and_next_walk_the_answers_citations() -> None:
    core = FakeCore(documents={"doc": DOCUMENT})
    conversation = conversation_with(two_citations())
    back = reader.step(core, conversation, "en", reader.ReaderAt(0, 2), -1)
    assert back["reader_at"] == reader.ReaderAt(0, 1) and "Clusters share suppliers" in back["reader"]
    assert reader.step(core, conversation, "en", reader.ReaderAt(0, 1), -1) == {}  # no citation 0
    assert reader.close()["sources"]["visible"] is True


@pytest.mark.parametrize("target", ["", "x:1", "0:9", "5:1", "0:1; drop table", "-1:1"])
def test_a_click_that_names_no_citation_does_nothing(target: str) -> None:
    core = FakeCore(documents={"doc": DOCUMENT})
    assert reader.open_citation(core, conversation_with(two_citations()), "en", target) == {}


def test_a_paraphrase_is_matched_to_its_closest_sentence() -> None:
    spans = reader.cited_spans("Anchor firms train the local workforce.[1]", 1, DOCUMENT[2].text)
    assert [DOCUMENT[2].text[a:b] for a, b in spans] == ["Anchors train the workforce."]
    assert reader.cited_spans("Nothing alike at all.[1]", 1, DOCUMENT[0].text) == []


# --- regenerate, edit, stop -----------------------------------------------------------------------------
def test_regenerate_answers_the_same_question_again_in_place() -> None:
    core = FakeCore()
    core.enqueue(answer("Second try.[1]"))
    conversation = conversation_with(answer("First.[1]"), answer("Later.[1]"))
    final = run(chat.regenerate(core, None, conversation, "en", SimpleNamespace(index=0)))[-1]
    assert core.calls == [("question 0", ())]
    kept = final["conversation"]
    assert [e.answer.text for e in kept.exchanges if e.answer] == ["Second try.[1]"]


def test_an_edited_question_is_asked_after_the_exchanges_before_it() -> None:
    core = FakeCore()
    core.enqueue(answer("About suppliers.[1]"))
    conversation = conversation_with(answer("First.[1]"), answer("Later.[1]"))
    event = SimpleNamespace(index=2, value=[{"type": "text", "text": "and &lt;their&gt; suppliers?"}])
    final = run(chat.edit(core, None, conversation, "en", event))[-1]
    assert core.calls == [("and <their> suppliers?", (("question 0", "First.[1]"),))]
    assert [e.question for e in final["conversation"].exchanges] == ["question 0", "and <their> suppliers?"]


def test_stop_keeps_what_was_written_marked_and_remembers_nothing_of_it(tmp_path: Path) -> None:
    core = FakeCore(pieces=4)
    core.enqueue(answer("Clusters share suppliers and labour.[1]"))
    store = ConversationStore(tmp_path / "c.sqlite")
    steps = chat.respond(
        core, store, "What do clusters share?", chat.Conversation(owner="browser:b"), "en", tab="tab-1"
    )
    seen = [next(steps), next(steps), next(steps)]  # the question, then two pieces: then Stop
    pressed: dict[str, Any] = {}
    stopper = threading.Thread(
        target=lambda: pressed.update(chat.stop(seen[-1]["conversation"], "en", tab("tab-1")))
    )
    stopper.start()
    while chat.STOPS.writing("tab-1"):  # until Stop has reached the writer's flag
        time.sleep(0.01)
    after = list(steps)  # the writer's next piece is the stopped text, and then it ends
    stopper.join(5)
    assert not stopper.is_alive()
    assert len(after) == 1 and after[0]["chatbot"] == pressed["chatbot"]  # both show the same text
    shown = pressed["chatbot"][-1]["content"]
    assert shown.startswith("Clusters share sup") and shown.endswith("⏹ stopped")
    assert "labour" not in shown  # nothing written after Stop was pressed
    stopped = after[0]["conversation"]
    assert stopped.turns == () and store.list("browser:b") == []  # a stopped answer is no history
    assert chat.STOPS.stop("tab-1", 0) is None  # the run is gone once it ended


def test_stop_in_a_tab_that_writes_nothing_changes_nothing() -> None:
    core = FakeCore()
    core.enqueue(answer("Done.[1]"))
    final = run(chat.respond(core, None, "q", chat.Conversation(), "en", tab="tab-2"))[-1]
    assert chat.stop(final["conversation"], "en", tab("tab-2")) == {}  # it finished before Stop arrived
    assert chat.stop(final["conversation"], "en", tab("tab-3")) == {}  # another tab's Stop


def tab(session: str) -> Any:
    return SimpleNamespace(session_hash=session)


def test_every_answer_is_kept_for_its_owner_under_one_id(tmp_path: Path) -> None:
    core = FakeCore()
    core.enqueue(answer("One.[1]"), answer("Two.[1]"))
    store = ConversationStore(tmp_path / "c.sqlite")
    first = run(chat.ask(core, store, "q one", chat.Conversation(owner="browser:b"), "en"))[-1][
        "conversation"
    ]
    second = run(chat.ask(core, store, "q two", first, "en"))[-1]["conversation"]
    assert first.conversation_id == second.conversation_id is not None
    saved = store.load("browser:b", second.conversation_id)
    assert saved is not None and [e.question for e in saved.exchanges] == ["q one", "q two"]
    assert len(store.list("browser:b")) == 1


def test_suggestions_show_under_the_last_answer_and_hide_when_there_are_none() -> None:
    core = FakeCore(suggestions=("What about anchors?", "And suppliers?"))
    shown = chat.suggestions(core, conversation_with(answer()))
    assert shown["suggest_0"]["value"] == "What about anchors?" and shown["suggest_1"]["visible"] is True
    assert shown["suggest_2"]["visible"] is False
    assert all(not u["visible"] for u in chat.suggestions(core, chat.Conversation()).values())


# --- saved conversations ----------------------------------------------------------------------------------
def request(username: str | None = None) -> Any:
    return SimpleNamespace(username=username, headers={}, client=SimpleNamespace(host="127.0.0.1"))


def test_the_owner_is_the_user_or_this_browser_given_an_id_once() -> None:
    fresh = history.start(chat.Conversation(kb="harbor"), None, request())
    browser = fresh["browser_id"]
    assert len(browser) == 32 and fresh["conversation"].owner == f"browser:{browser}"
    assert fresh["conversation"].kb == "harbor"
    assert history.start(chat.Conversation(), browser, request())["browser_id"] == browser
    assert history.start(chat.Conversation(), "../../x", request())["browser_id"] != "../../x"
    assert history.start(chat.Conversation(), browser, request("alice"))["conversation"].owner == "user:alice"


def test_a_saved_conversation_is_listed_and_reopens_with_its_sources(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite")
    kept = store.save("user:alice", None, [Exchange("What is a cluster?", answer())], kb="harbor")
    mine = chat.Conversation(owner="user:alice")
    listed = history.choices(store, mine, "en")["history"]["choices"]
    assert [value for _, value in listed] == [kept] and listed[0][0].startswith("What is a cluster? · ")
    opened = history.reopen(store, mine, kept, "en")
    assert opened["conversation"].conversation_id == kept and opened["kb_choice"] == "harbor"
    assert opened["chatbot"][0]["content"] == "What is a cluster?" and "Cluster basics" in opened["sources"]
    assert history.reopen(store, chat.Conversation(owner="user:bob"), kept, "en") == {}  # not Bob's


def test_export_gives_three_files_that_open(tmp_path: Path) -> None:
    import docx
    from pypdf import PdfReader

    out = history.export(tmp_path, conversation_with(answer()), "en")
    paths = {fmt: Path(out[f"export_{fmt}"]["value"]) for fmt in history.EXPORT_FORMATS}
    assert "Clusters share suppliers.[1]" in paths["md"].read_text(encoding="utf-8")
    assert any("Cluster basics" in p.text for p in docx.Document(str(paths["docx"])).paragraphs)
    assert "Clusters share suppliers" in PdfReader(str(paths["pdf"])).pages[0].extract_text()
    assert all(p.parent.parent == tmp_path / "exports" for p in paths.values())
    with pytest.warns(UserWarning):
        nothing = history.export(tmp_path, chat.Conversation(), "en")
    assert nothing["export_md"]["visible"] is False


# --- who is signed in, who may remove -----------------------------------------------------------------------
def test_the_signed_in_user_is_named_with_a_way_out() -> None:
    assert user_line(request(), "en", True) == ""
    assert user_line(request("alice"), "en", True) == "Signed in as alice · [Sign out](logout)"
    assert user_line(request("alice"), "zh", False) == "已登录：alice"


def test_only_the_uploader_or_an_admin_may_remove_from_the_page(tmp_path: Path) -> None:
    from advisor.auth import Access
    from advisor.config import Settings
    from advisor.documents import UploadError
    from advisor.web import library_tab

    class Library:
        def __init__(self) -> None:
            self.removed: list[str] = []

        def library(self, kb: str) -> Library:
            return self

        def documents(self) -> list[Any]:
            return []

        def remove(self, doc_id: str, report: Any, allowed: Any) -> str:
            if not allowed("alice"):
                raise UploadError("err_not_owner", title="Notes", owner="alice")
            self.removed.append(doc_id)
            return "Notes"

    access = Access(Settings(auth_header="X-User", admins="root"))
    library = Library()
    refused = library_tab.remove(
        library, access, "upload-000000000001", chat.Conversation(), "en", request("bob"), print
    )  # type: ignore[arg-type]
    assert (
        "only its uploader (alice) or an admin may remove it" in refused["status"].replace("\\", "")
        and library.removed == []
    )
    library_tab.remove(
        library, access, "upload-000000000001", chat.Conversation(), "en", request("root"), print
    )  # type: ignore[arg-type]
    assert library.removed == ["upload-000000000001"]
