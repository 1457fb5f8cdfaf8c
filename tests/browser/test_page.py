"""The web page in headless Chromium: ask in both languages, open a source, see a refusal, add a document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveServer, open_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


BOT = '#chat [aria-label^="bot\'s message"]'  # a reply; Gradio's pending dots are not one


def wait_for_reply(page: Any, before: int) -> Any:
    """Wait until a reply after the first `before` ones is finished; returns it."""
    page.wait_for_function(
        "([sel, n]) => { const r = document.querySelectorAll(sel);"
        " return r.length > n && !r[r.length - 1].innerText.includes('▍'); }",
        arg=[BOT, before],
    )
    page.wait_for_selector("#sources .src-footer")
    return page.locator(BOT).last


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, wait until the answer is finished; returns the last bot message."""
    before = page.locator(BOT).count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    return wait_for_reply(page, before)


def test_chinese_question_cites_sources_that_open(browser: Any, live_server: LiveServer) -> None:
    page, outside = open_page(browser, live_server, "zh-CN")
    assert "产业战略顾问" in page.locator("#advisor-header").inner_text()
    screenshot(page, "01-empty-zh")
    answer = ask(page, "产业集聚和产业集群有什么区别？")
    assert "[1]" in answer.inner_text()
    first = page.locator("#sources details.src").first
    assert "出处" in page.locator("#sources h3").inner_text()
    assert not first.evaluate("el => el.open")
    first.locator("summary").click()
    assert first.evaluate("el => el.open")
    passage = first.locator(".src-text").inner_text()
    assert len(passage) > 20 and first.locator(".src-loc").inner_text().startswith("corpus/")
    screenshot(page, "02-answer-zh-source-open")
    assert outside.urls == []


def test_english_question_and_language_switch(browser: Any, live_server: LiveServer) -> None:
    page, outside = open_page(browser, live_server, "en-US")
    assert "Industrial Strategy Advisor" in page.locator("#advisor-header").inner_text()
    answer = ask(page, "How do I tell an agglomeration from a real cluster?")
    assert "[1]" in answer.inner_text()
    assert page.locator("#sources details.src").count() >= 1
    page.locator("#sources details.src summary").first.click()
    screenshot(page, "03-answer-en")
    page.get_by_label("中文").check()
    page.wait_for_function(
        "() => document.querySelector('#advisor-header').innerText.includes('产业战略顾问')"
    )
    assert "出处" in page.locator("#sources h3").inner_text()  # the panel follows the switch
    assert outside.urls == []


def test_uncovered_question_shows_refusal_with_related_reading(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "zh-CN")
    answer = ask(page, "武汉光谷有多少家光电子企业？")
    assert answer.inner_text().strip().startswith("⚠ 资料未覆盖")
    assert "[1]" not in answer.inner_text()
    assert "相关阅读" in page.locator("#sources .sources-refused h3").inner_text()
    assert page.locator("#sources details.src").count() >= 1
    screenshot(page, "04-refusal-zh")


def test_example_question_button_answers(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    before = page.locator(BOT).count()
    page.locator("#examples button").nth(2).click()
    wait_for_reply(page, before)
    assert page.locator("#chat .user").last.inner_text().strip().startswith("How do I tell")


def test_upload_a_document_then_ask_about_it(browser: Any, live_server: LiveServer, tmp_path: Path) -> None:
    page, outside = open_page(browser, live_server, "en-US")
    note = tmp_path / "harbor-lane.md"
    note.write_text(
        "# Harbor Lane Motor Park\n\n"
        "The Harbor Lane Motor Park trains two hundred welding technicians every year through a shared "
        "apprenticeship school that its five anchor motor makers run together.\n\n"
        "Suppliers in the Harbor Lane Motor Park share one testing laboratory for servo motors.\n",
        encoding="utf-8",
    )
    page.locator("#tab-docs-button, button[role=tab]:has-text('Documents')").first.click()
    page.locator("#upload input[type=file]").set_input_files(str(note))
    page.locator("#upload-btn").click()
    page.wait_for_selector("#doc-status :text('Added')", timeout=120_000)
    assert "Harbor Lane Motor Park" in page.locator("#documents").inner_text()
    assert "✓" in page.locator("#doc-status").inner_text()
    assert not list(live_server.settings.web_temp_dir.rglob("harbor-lane.md"))  # the original is deleted
    screenshot(page, "05-documents")
    page.locator("button[role=tab]:has-text('Ask')").first.click()
    answer = ask(page, "How many welding technicians does the Harbor Lane Motor Park train every year?")
    assert "[1]" in answer.inner_text()
    assert "Harbor Lane Motor Park" in page.locator("#sources").inner_text()
    screenshot(page, "06-answer-from-upload")
    assert outside.urls == []


def test_a_refusal_in_english_under_the_chinese_interface_has_an_english_heading(
    browser: Any, live_server: LiveServer
) -> None:
    page, _ = open_page(browser, live_server, "zh-CN")
    text = ask(page, "What was the GDP of Hefei in 2023?").inner_text().strip()
    assert text.startswith("⚠ Not covered by the documents") and "资料未覆盖" not in text


def test_phone_width_keeps_the_title_readable_and_the_sources_under_the_answer(
    browser: Any, live_server: LiveServer
) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server.url)
    page.wait_for_function(
        "() => document.querySelector('#advisor-header')?.innerText.includes('Industrial')"
    )
    title = page.locator("#advisor-header h1").bounding_box()
    assert title is not None and title["width"] > 200 and title["height"] < 80  # not one character per line
    assert page.evaluate("document.documentElement.scrollWidth") <= 391  # nothing wider than the phone
    answer = ask(page, "How do I tell an agglomeration from a real cluster?")
    text = answer.inner_text()
    assert "Sources\n[1] " in text  # the cited sources sit right under the answer
    screenshot(page, "07-phone")
    context.close()


def test_new_chat_clears_the_conversation_and_the_sources(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    ask(page, "How do I tell an agglomeration from a real cluster?")
    assert not page.locator("#chat button[aria-label='Clear']").is_visible()  # one control, not two
    page.locator("#new-chat").click()
    page.wait_for_function("sel => document.querySelectorAll(sel).length === 0", arg=BOT)
    page.wait_for_selector("#sources .sources-empty")
    answer = ask(page, "What is an industrial ecosystem?")
    assert page.locator("#chat .user").count() == 1 and "[1]" in answer.inner_text()


def test_an_example_clicked_after_a_turn_starts_afresh(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    ask(page, "What does Paris do for its industrial clusters?")
    before = page.locator(BOT).count()
    page.locator("#examples button", has_text="What is an industrial ecosystem?").click()
    text = wait_for_reply(page, before).inner_text()
    assert not text.strip().startswith("⚠") and "[1]" in text and "Paris" not in text


def test_copy_gives_clean_text_with_markers_and_sources(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1360, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url.rstrip("/"))
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(live_server.url)
    page.wait_for_selector("#question textarea")
    answer = ask(page, "How do I tell an agglomeration from a real cluster?")
    answer.hover()
    page.locator("#chat .message-buttons-left button[aria-label='Copy message']").last.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "[1]" in copied and "\nSources\n[1] " in copied
    assert "<sup" not in copied and "class=" not in copied and "\\" not in copied
    label = page.locator(BOT).last.get_attribute("aria-label")
    assert label == "bot's message: " + copied
    context.close()
