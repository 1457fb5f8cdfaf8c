"""Render a Document as PDF (fpdf2) with the CJK font embedded, byte for byte the same for the same document.

The font is embedded (as a TrueType subset of the characters used), so Chinese shows in every viewer
without any font installed, and its text extracts. It has one weight: headings stand out by size and
colour rather than bold.
"""

from __future__ import annotations

import datetime
import io
import tempfile
from pathlib import Path
from typing import Any

from .fonts import truetype_subset
from .model import Bullets, Document, Figure, Heading, Paragraph, SourceList, Table

_FAMILY = "NotoSansSC"
_HEADING_PT = {1: 14.0, 2: 12.0, 3: 11.0}
_ACCENT = (15, 118, 110)
_TEXT = (30, 35, 40)
_MUTED = (89, 99, 110)
_LINE = 1.45  # line height as a multiple of the font size
_NO_DATE = datetime.datetime(1969, 12, 31, 19, 0, 0, tzinfo=datetime.UTC)  # fpdf2's epoch sentinel


def _pdf_class() -> Any:
    from fpdf import FPDF

    class ReportPDF(FPDF):
        """A4 pages with the page number in the footer."""

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(_FAMILY, size=8)
            self.set_text_color(*_MUTED)
            self.cell(0, 6, str(self.page_no()), align="C")

    return ReportPDF


def _height(size_pt: float) -> float:
    """Line height in mm for a font size in points."""
    return size_pt * _LINE * 25.4 / 72


def _text(pdf: Any, text: str, size: float, color: tuple[int, int, int] = _TEXT, indent: float = 0) -> None:
    pdf.set_font(_FAMILY, size=size)
    pdf.set_text_color(*color)
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(pdf.epw - indent, _height(size), text, new_x="LMARGIN", new_y="NEXT", **pdf.wrap)


def _gap(pdf: Any, mm: float = 2.5) -> None:
    pdf.ln(mm)


def _bullets(pdf: Any, block: Bullets) -> None:
    pdf.set_font(_FAMILY, size=10)
    for number, item in enumerate(block.items, 1):
        pdf.set_text_color(*_TEXT)
        pdf.set_x(pdf.l_margin + 2)
        pdf.cell(6, _height(10), f"{number}." if block.numbered else "•")
        pdf.multi_cell(pdf.epw - 8, _height(10), item, new_x="LMARGIN", new_y="NEXT", **pdf.wrap)
        pdf.ln(0.8)


def _table(pdf: Any, block: Table) -> None:
    from fpdf.fonts import FontFace

    pdf.set_font(_FAMILY, size=9)
    pdf.set_text_color(*_TEXT)
    heading = FontFace(emphasis="", color=_TEXT, fill_color=(226, 240, 238))
    with pdf.table(
        headings_style=heading, line_height=_height(9), text_align="LEFT", wrapmode=pdf.wrap["wrapmode"]
    ) as table:
        for cells in (block.header, *block.rows):
            row = table.row()
            for cell in cells:
                row.cell(cell)


def document_text(doc: Document) -> str:
    """Every character the document shows, for cutting the font down to them."""
    parts = [doc.title, doc.subtitle, doc.date or ""]
    for block in doc.blocks:
        if isinstance(block, Heading | Paragraph):
            parts.append(block.text)
        elif isinstance(block, Bullets):
            parts.extend(block.items)
        elif isinstance(block, Table):
            parts.extend(block.header)
            parts.extend(cell for row in block.rows for cell in row)
        elif isinstance(block, Figure):
            parts.append(block.caption)
        elif isinstance(block, SourceList):
            parts.append(block.heading)
            for source in block.sources:
                parts += [source.title, source.location, source.text, source.parallel_text or ""]
    return "".join(parts)


def to_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    with tempfile.TemporaryDirectory(prefix="advisor-pdf-") as folder:
        font = truetype_subset(document_text(doc), Path(folder) / "NotoSansSC.ttf")
        return _render(doc, font)


def _render(doc: Document, font: Path) -> bytes:
    pdf = _pdf_class()(format="A4")
    # Chinese has no spaces to break at: wrap at any character, and never stretch a line to justify it.
    pdf.wrap = {"align": "L", "wrapmode": "CHAR" if doc.lang == "zh" else "WORD"}
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_font(_FAMILY, "", str(font))
    pdf.set_title(doc.title)
    pdf.set_lang({"zh": "zh-CN", "en": "en-US"}[doc.lang])
    pdf.set_producer("advisor")
    if doc.date:
        pdf.set_creation_date(datetime.datetime.fromisoformat(doc.date).replace(tzinfo=datetime.UTC))
    else:  # fpdf2 always writes a creation date; its own "no date" sentinel keeps the clock out of the file
        pdf.set_creation_date(_NO_DATE)
    pdf.add_page()
    _text(pdf, doc.title, 18, _ACCENT)
    if doc.subtitle:
        _text(pdf, doc.subtitle, 10.5, _MUTED)
    if doc.date:
        _text(pdf, doc.date, 9, _MUTED)
    _gap(pdf, 4)
    for block in doc.blocks:
        if isinstance(block, Heading):
            _gap(pdf, 3)
            _text(pdf, block.text, _HEADING_PT.get(block.level, 11.0), _ACCENT)
            _gap(pdf, 1)
        elif isinstance(block, Paragraph):
            size, color = {"lead": (11.0, _TEXT), "muted": (8.5, _MUTED)}.get(block.tone, (10.0, _TEXT))
            _text(pdf, block.text, size, color)
            _gap(pdf, 1.5)
        elif isinstance(block, Bullets):
            _bullets(pdf, block)
            _gap(pdf, 1.5)
        elif isinstance(block, Table):
            _table(pdf, block)
            _gap(pdf)
        elif isinstance(block, Figure):
            pdf.image(io.BytesIO(block.png), x=(pdf.w - block.width_mm) / 2, w=block.width_mm)
            if block.caption:
                _text(pdf, block.caption, 8.5, _MUTED)
            _gap(pdf)
        elif isinstance(block, SourceList):
            _gap(pdf, 3)
            _text(pdf, block.heading, _HEADING_PT[1], _ACCENT)
            for source in block.sources:
                _text(pdf, f"[{source.n}] {source.title} — {source.location}", 9.5)
                _text(pdf, source.text, 8.5, _MUTED, indent=4)
                if source.parallel_text:
                    _text(pdf, source.parallel_text, 8.5, _MUTED, indent=4)
                _gap(pdf, 1.5)
    return bytes(pdf.output())
