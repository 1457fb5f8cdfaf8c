"""Render a Document as DOCX (python-docx), byte for byte the same for the same document.

Word processors do not ship fonts inside .docx files; every style asks for Noto Sans SC for both Latin and
East Asian text, and a reader without it sees their own CJK font instead (never tofu: Word substitutes).
"""

from __future__ import annotations

import datetime
import io
import zipfile
from typing import Any

from .fonts import FONT_FAMILY
from .model import Bullets, Document, Figure, Heading, Paragraph, SourceList, Table

_LANG_TAGS = {"zh": "zh-CN", "en": "en-US"}
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries carry a time; a fixed one keeps the bytes stable
_MUTED_RGB = (0x59, 0x63, 0x6E)


def _set_fonts(style: Any, lang: str) -> None:
    """Ask for the CJK font for Latin and East Asian text alike, and tag the style's language."""
    from docx.oxml.ns import qn

    style.font.name = FONT_FAMILY
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT_FAMILY)
    for old in rpr.findall(qn("w:lang")):
        rpr.remove(old)
    lang_el = rpr.makeelement(qn("w:lang"), {qn("w:val"): _LANG_TAGS[lang], qn("w:eastAsia"): "zh-CN"})
    rpr.append(lang_el)


def _core_properties(document: Any, doc: Document) -> None:
    """Title and language from the document; a date only when the caller gave one."""
    from docx.oxml.ns import qn

    props = document.core_properties
    props.title = doc.title
    props.language = _LANG_TAGS[doc.lang]
    props.author = props.last_modified_by = "advisor"
    props.revision = 1
    if doc.date:
        when = datetime.datetime.fromisoformat(doc.date).replace(tzinfo=datetime.UTC)
        props.created = props.modified = when
        return
    element = props._element
    for tag in ("dcterms:created", "dcterms:modified"):
        for found in element.findall(qn(tag)):
            element.remove(found)


def _muted(paragraph: Any, size_pt: float = 9) -> None:
    from docx.shared import Pt, RGBColor

    for run in paragraph.runs:
        run.font.size = Pt(size_pt)
        run.font.color.rgb = RGBColor(*_MUTED_RGB)


def _lines(paragraph: Any, text: str) -> None:
    """Text with newlines as line breaks inside one paragraph (a list item keeps one bullet)."""
    for number, line in enumerate(text.split("\n")):
        if number:
            paragraph.runs[-1].add_break()
        paragraph.add_run(line)


def _stable_zip(data: bytes) -> bytes:
    """The same archive with every entry's time fixed, so equal documents give equal bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return out.getvalue()


def to_docx(doc: Document) -> bytes:
    """The document as .docx bytes."""
    import docx
    from docx.shared import Mm, Pt

    document = docx.Document()
    for name in ("Normal", "Title", "Subtitle", "Heading 1", "Heading 2", "Heading 3", "Caption"):
        _set_fonts(document.styles[name], doc.lang)
    document.styles["Normal"].font.size = Pt(10.5)
    _core_properties(document, doc)

    document.add_heading(doc.title, 0)
    if doc.subtitle:
        document.add_paragraph(doc.subtitle, style="Subtitle")
    if doc.date:
        document.add_paragraph(doc.date)
    for block in doc.blocks:
        if isinstance(block, Heading):
            document.add_heading(block.text, min(block.level, 3))
        elif isinstance(block, Paragraph):
            paragraph = document.add_paragraph(block.text)
            if block.tone == "lead":
                for run in paragraph.runs:
                    run.font.size = Pt(11.5)
            elif block.tone == "muted":
                _muted(paragraph)
        elif isinstance(block, Bullets):
            style = "List Number" if block.numbered else "List Bullet"
            for item in block.items:
                _lines(document.add_paragraph(style=style), item)
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.header), style="Table Grid")
            for cell, text in zip(table.rows[0].cells, block.header, strict=True):
                cell.text = text
                for run in cell.paragraphs[0].runs:
                    run.bold = True
            for row in block.rows:
                for cell, text in zip(table.add_row().cells, row, strict=True):
                    cell.text = text
        elif isinstance(block, Figure):
            document.add_picture(io.BytesIO(block.png), width=Mm(block.width_mm))
            if block.caption:
                document.add_paragraph(block.caption, style="Caption")
        elif isinstance(block, SourceList):
            document.add_heading(block.heading, 1)
            for source in block.sources:
                head = document.add_paragraph()
                head.add_run(f"[{source.n}] ").bold = True
                head.add_run(f"{source.title} — {source.location}")
                _muted(document.add_paragraph(source.text))
                if source.parallel_text:
                    _muted(document.add_paragraph(source.parallel_text))
    out = io.BytesIO()
    document.save(out)
    return _stable_zip(out.getvalue())
