"""The Diagnose tab in headless Chromium: fill the form (skipping some), build the report, download the files."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from .conftest import LiveServer, open_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def answer(page: Any, criterion: str, label: str) -> None:
    page.locator(f"#q-{criterion} label:has-text('{label}')").first.click()


def type_number(page: Any, criterion: str, value: str) -> None:
    page.locator(f"#q-{criterion} textarea, #q-{criterion} input").first.fill(value)


def test_fill_the_form_build_the_report_and_download_it(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    page, outside = open_page(browser, live_server, "zh-CN")
    page.locator("button[role=tab]:has-text('诊断')").first.click()
    page.wait_for_selector("#q-chain_collaboration")
    why = page.locator("#q-chain_collaboration").inner_text()
    assert "为什么问" in why and "corpus/cluster-vs-agglomeration.md:" in why  # each question says why, cited
    for criterion, label in [
        ("shared_infrastructure", "部分"),
        ("supplier_proximity", "大多在外地"),
        ("homogeneity", "是"),
        ("chain_collaboration", "否"),
        ("tiered_structure", "否"),
        ("joint_rd_standards", "否"),
        ("service_network", "部分"),
        ("research_embedded", "否"),
        ("formation_driver", "外部条件"),
        ("investment_strategy", "大而全"),
    ]:
        answer(page, criterion, label)
    type_number(page, "value_density", "65")
    type_number(page, "talent_gap", "30")
    page.locator("#assess-name textarea, #assess-name input").first.fill("浏览器测试园区")
    page.locator("#assess-submit").click()
    page.wait_for_selector("#assess-report h2", timeout=120_000)
    report = page.locator("#assess-report").inner_text()
    assert "当前阶段：产业集聚" in report and "[1]" in report and "出处" in report
    assert "无法判断的内容" in report and "动态评估体系" in report  # skipped questions are listed
    assert page.locator("#assess-chart img").count() == 1
    assert "已保存为“浏览器测试园区”" in page.locator("#assess-status").inner_text()
    screenshot(page, "07-diagnosis-report")

    downloaded = {}
    for fmt in ("md", "docx", "pdf"):
        with page.expect_download() as info:
            page.locator(f"#assess-{fmt}").click()
        target = tmp_path / info.value.suggested_filename
        info.value.save_as(target)
        downloaded[fmt] = target
    assert downloaded["md"].read_text(encoding="utf-8").startswith("# 园区产业诊断报告")

    import docx
    from pypdf import PdfReader

    assert "当前阶段：产业集聚" in "\n".join(
        p.text for p in docx.Document(str(downloaded["docx"])).paragraphs
    )
    pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(downloaded["pdf"].read_bytes())).pages)
    assert "当前阶段：产业集聚" in "".join(pdf.split())
    assert outside.urls == []


def test_the_tab_follows_the_language_switch(browser: Any, live_server: LiveServer) -> None:
    page, _ = open_page(browser, live_server, "zh-CN")
    page.get_by_label("English").check()
    page.locator("button[role=tab]:has-text('Diagnose')").first.click()
    page.wait_for_function(
        "() => document.querySelector('#q-chain_collaboration')?.innerText.includes('Why we ask')"
    )
    assert "Industrial park diagnosis" in page.locator("#assess-kind").inner_text()
