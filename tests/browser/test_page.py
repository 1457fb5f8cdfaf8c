"""The web page in headless Chromium: ask in both languages, open a source, see a refusal, add a document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveServer, open_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def ask(page: Any, question: str) -> Any:
    """Type a question, press Enter, wait until the answer is finished; returns the last bot message."""
    before = page.locator("#chat .bot").count()
    page.locator("#question textarea").fill(question)
    page.locator("#question textarea").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .bot').length > n"
        " && !document.querySelector('#chat .bot:last-of-type')?.innerText.includes('▍')",
        arg=before,
    )
    page.wait_for_selector("#sources .src-footer")
    return page.locator("#chat .bot").last


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
    assert answer.locator(".advisor-refusal").count() == 1
    assert "[1]" not in answer.inner_text()
    assert "相关阅读" in page.locator("#sources .sources-refused h3").inner_text()
    assert page.locator("#sources details.src").count() >= 1
    screenshot(page, "04-refusal-zh")


def test_example_question_button_answers(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "en-US")
    before = page.locator("#chat .bot").count()
    page.locator("#examples button").nth(2).click()
    page.wait_for_function("n => document.querySelectorAll('#chat .bot').length > n", arg=before)
    page.wait_for_selector("#sources .src-footer")
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
    screenshot(page, "05-documents")
    page.locator("button[role=tab]:has-text('Ask')").first.click()
    answer = ask(page, "How many welding technicians does the Harbor Lane Motor Park train every year?")
    assert "[1]" in answer.inner_text()
    assert "Harbor Lane Motor Park" in page.locator("#sources").inner_text()
    screenshot(page, "06-answer-from-upload")
    assert outside.urls == []
