"""Conversion within budgets: a .docx bomb is refused before unpacking, reading stops at the byte budget."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import Path

import pytest

from advisor.ingest.convert import (
    MB,
    BudgetExceeded,
    ConvertError,
    CountingReader,
    Limits,
    TextBudget,
    convert,
    stream_docx_text,
)
from advisor.ingest.load import load_file

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _document_xml(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    if table:
        rows = "".join(
            "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>"
            for row in table
        )
        body += f"<w:tbl>{rows}</w:tbl>"
    return f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'.encode()


def _docx(path: Path, xml: bytes, title: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", xml)
        if title:
            archive.writestr(
                "docProps/core.xml",
                '<cp:coreProperties xmlns:cp="x" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<dc:title>{title}</dc:title></cp:coreProperties>",
            )
    return path


def test_a_docx_is_read_in_order_with_its_tables_and_title(tmp_path: Path) -> None:
    xml = _document_xml(["Kiln sharing", "The park shares one kiln."], [["Firm", "Kilns"], ["A", "2"]])
    converted = convert(_docx(tmp_path / "k.docx", xml, title="Shared kilns"), "kiln.docx")
    assert converted.text == "Kiln sharing\n\nThe park shares one kiln.\n\nFirm | Kilns\n\nA | 2"
    assert converted.title == "Shared kilns"


def test_a_zip_bomb_is_refused_on_its_declared_size_and_ratio_before_unpacking(tmp_path: Path) -> None:
    bomb = _docx(tmp_path / "bomb.docx", _document_xml(["x" * 1000] * 60_000))  # 60 MB of XML, ~0.2 MB packed
    assert bomb.stat().st_size < MB
    started = time.perf_counter()
    with pytest.raises(ConvertError) as caught:
        convert(bomb, "季度报告.docx")
    assert time.perf_counter() - started < 1.0  # refused from the archive's directory, nothing unpacked
    assert caught.value.key == "err_docx_bomb"
    assert "季度报告.docx" in caught.value.message("zh") and "bomb.docx" not in str(caught.value)
    assert "MB" in str(caught.value) and "100×" in str(caught.value)


def test_docx_xml_is_streamed_and_stops_at_the_byte_budget() -> None:
    xml = _document_xml(["a paragraph of text"] * 200_000)  # ~10 MB of XML
    reader = CountingReader(io.BytesIO(xml), budget=1 * MB)
    with pytest.raises(BudgetExceeded):
        stream_docx_text(reader, TextBudget("a.docx", 100 * MB))
    assert MB < reader.count <= MB + 1024 * 1024  # stopped within one read of the budget, not at the end


def test_extracted_text_stops_at_the_text_budget() -> None:
    budget = TextBudget("big.docx", 64 * 1024)
    reader = CountingReader(io.BytesIO(_document_xml(["字" * 100] * 10_000)), budget=100 * MB)
    with pytest.raises(ConvertError) as caught:
        stream_docx_text(reader, budget)
    assert caught.value.key == "err_text_budget" and budget.used <= 64 * 1024 + 400
    assert len(budget.parts) < 10_000 and reader.count < len(_document_xml(["字" * 100] * 10_000))


def _pdf(path: Path, pages: int = 1, stream: bytes | None = None) -> Path:
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    if stream is not None:
        content = StreamObject()
        content.set_data(stream)
        writer.pages[0][NameObject("/Contents")] = writer._add_object(content.flate_encode())
        procset = ArrayObject([NameObject("/PDF"), NameObject("/Text")])  # resources: pypdf reads the text
        writer.pages[0][NameObject("/Resources")] = DictionaryObject({NameObject("/ProcSet"): procset})
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def test_pdf_pages_and_streams_have_limits_and_errors_name_the_users_file(tmp_path: Path) -> None:
    limits = Limits(pdf_pages=2, pdf_stream_bytes=1 * MB)
    with pytest.raises(ConvertError, match="3 pages, over the limit of 2"):
        convert(_pdf(tmp_path / "p.pdf", pages=3), "plan.pdf", limits)
    with pytest.raises(ConvertError) as caught:
        convert(_pdf(tmp_path / "s.pdf", stream=b"BT ET " * (2 * MB // 6)), "plan.pdf", limits)
    assert caught.value.key == "err_pdf_limit"
    broken = tmp_path / ".upload-eb99.pdf"
    broken.write_bytes(b"%PDF-1.4\n1 0 obj << /Length 99 >> stream\nshort")
    with pytest.raises(ConvertError) as caught:
        convert(broken, "plan.pdf")
    message = caught.value.message("en")
    assert message == "plan.pdf: the PDF cannot be read (damaged, or not a PDF)"
    assert "Stream" not in message and ".upload-" not in message


def test_html_has_its_own_size_limit(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_bytes(b"<html><body>" + b"<p>word</p>" * 20_000 + b"</body></html>")
    with pytest.raises(ConvertError, match=r"over the 0\.1 MB limit for HTML"):
        convert(page, "page.html", Limits(html_bytes=100 * 1024))


def test_load_file_reads_converted_formats_for_advisor_ingest(tmp_path: Path) -> None:
    xml = _document_xml(["Harbor logistics", "The port cluster coordinates trucking slots every morning."])
    doc = load_file(_docx(tmp_path / "harbor.docx", xml, title="Harbor logistics"))
    assert doc.doc_id == "harbor" and doc.titles == {"en": "Harbor logistics"}
    assert "trucking slots" in doc.body
    with pytest.raises(ConvertError, match="no text found"):
        load_file(_pdf(tmp_path / "scan.pdf"))
