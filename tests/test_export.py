"""The exporter: one Document model to Markdown, DOCX and PDF; Chinese renders (no tofu); files open; bytes are stable."""

from __future__ import annotations

import io
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from advisor.export import render, write, write_atomic
from advisor.export.fonts import cjk_font_path
from advisor.export.model import Bullets, Document, Figure, Heading, Paragraph, Source, SourceList, Table

from .conftest import REPO


def _png() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(1, 1), dpi=20)
    out = io.BytesIO()
    FigureCanvasAgg(figure).print_png(out, metadata={"Software": None})
    return out.getvalue()


def sample(date: str | None = None) -> Document:
    return Document(
        "诊断报告 Diagnosis",
        "zh",
        (
            Heading("阶段判断"),
            Paragraph("当前阶段：产业集聚 [1]。", "lead"),
            Bullets(("绘制产业基因图谱 [2]\n案例：梳理128项核心技术节点", "second item"), numbered=True),
            Table(("维度", "得分"), (("内部关联", "0"), ("a | b", "50"))),
            Figure(_png(), "radar.png", "各维度得分"),
            Paragraph("计分方法说明", "muted"),
            SourceList(
                "出处",
                (
                    Source(
                        1,
                        "產業集群和產業集聚的區別",
                        "corpus/cluster-vs-agglomeration.md:36-37",
                        "產業集聚是產業集群的初級階段",
                    ),
                    Source(2, "VCM", "corpus/vcm-industrial-cluster.md:3", "中文原文", "the English side"),
                ),
            ),
        ),
        subtitle="示例园区",
        date=date,
    )


def squash(text: str) -> str:
    """Text without whitespace: where a line wraps is the renderer's business."""
    return "".join(text.split())


def test_markdown_has_every_block_and_links_the_figure() -> None:
    files = render(sample(), "report", ["md"])
    markdown = files["report.md"].decode("utf-8")
    assert set(files) == {"report.md", "radar.png"}
    assert markdown.startswith("# 诊断报告 Diagnosis\n\n*示例园区*")
    assert "## 阶段判断" in markdown and "> 当前阶段：产业集聚 [1]。" in markdown
    assert "1. 绘制产业基因图谱 [2]  \n   案例：梳理128项核心技术节点" in markdown
    assert "| a \\| b | 50 |" in markdown and "![各维度得分](radar.png)" in markdown
    assert (
        "**[2]** VCM — `corpus/vcm-industrial-cluster.md:3`" in markdown and "> the English side" in markdown
    )


def test_the_docx_opens_with_its_text_table_picture_and_sources(tmp_path: Path) -> None:
    import docx

    path = tmp_path / "report.docx"
    path.write_bytes(render(sample(), "report", ["docx"])["report.docx"])
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    for expected in (
        "诊断报告 Diagnosis",
        "当前阶段：产业集聚 [1]。",
        "[1] 產業集群和產業集聚的區別",
        "the English side",
    ):
        assert expected in text
    assert "绘制产业基因图谱 [2]\n案例" in text  # a line break inside one list item
    assert document.tables[0].cell(2, 0).text == "a | b"
    assert len(document.inline_shapes) == 1
    assert document.core_properties.created is None and document.core_properties.language == "zh-CN"
    fonts = document.styles["Normal"].element.rPr.rFonts
    assert "Noto Sans SC" in fonts.xml and "eastAsia" in fonts.xml


def test_the_pdf_text_extracts_and_it_embeds_the_cjk_font() -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(render(sample(), "report", ["pdf"])["report.pdf"]))
    text = squash("".join(page.extract_text() for page in reader.pages))
    for expected in (
        "诊断报告Diagnosis",
        "当前阶段：产业集聚[1]。",
        "[1]產業集群和產業集聚的區別",
        "a|b",
        "theEnglishside",
    ):
        assert expected in text
    fonts = [f.get_object() for page in reader.pages for f in page["/Resources"]["/Font"].values()]
    noto = [f for f in fonts if str(f["/BaseFont"]).endswith("NotoSansSC")]
    assert noto, [f["/BaseFont"] for f in fonts]
    descriptor = noto[0]["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    assert "/FontFile2" in descriptor  # the font program itself is in the file, not just its name
    assert len(reader.pages[0].images) == 1


def test_the_same_document_gives_the_same_bytes_and_a_date_only_when_given() -> None:
    from pypdf import PdfReader

    first, second = render(sample(), "r"), render(sample(), "r")
    assert first == second
    dated = render(sample("2025-06-30"), "r")
    assert dated["r.pdf"] != first["r.pdf"]
    assert PdfReader(io.BytesIO(dated["r.pdf"])).metadata["/CreationDate"].startswith("D:20250630")
    assert b"2025-06-30" in dated["r.md"] and b"2025" not in first["r.md"]


def test_files_are_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = write(render(sample(), "report", ["md"]), tmp_path / "out")
    assert sorted(p.name for p in paths) == ["radar.png", "report.md"]
    target = tmp_path / "out" / "report.md"
    before = target.read_bytes()

    def broken(src: Any, dst: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"half")
    assert target.read_bytes() == before  # the old file is untouched
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["radar.png", "report.md"]  # no temp left


def test_the_font_ships_inside_a_python_package() -> None:
    path = cjk_font_path()
    assert path.suffix == ".otf" and "site-packages" in path.parts
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", str(path)], cwd=REPO, capture_output=True)
    assert tracked.returncode != 0  # installed by pip, never committed


def _render_char(char: str, prop: Any) -> np.ndarray:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    figure = MplFigure(figsize=(0.6, 0.6), dpi=100)
    figure.text(0.5, 0.5, char, fontproperties=prop, fontsize=28, ha="center", va="center")
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., 0].copy()


def test_a_chinese_glyph_renders_in_the_chart_font_not_a_box() -> None:
    """集 drawn with the chart's font has ink, and differs from 群 and from the font's missing-glyph box.
    A font without CJK draws 集 and 群 as the same box: that is what tofu looks like to this test."""
    import warnings

    from matplotlib.font_manager import FontProperties, findfont

    from advisor.assess.chart import font

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # matplotlib warns about the glyphs a font lacks
        han, other, missing = (_render_char(c, font()) for c in ("集", "群", "\ue000"))
        latin = FontProperties(fname=findfont(FontProperties(family="DejaVu Sans")))
        tofu_a, tofu_b = _render_char("集", latin), _render_char("群", latin)
    assert (han < 128).sum() > 30  # dark pixels: the glyph has ink
    assert not np.array_equal(han, other) and not np.array_equal(han, missing)
    assert np.array_equal(tofu_a, tofu_b)


def test_every_label_of_the_radar_uses_the_bundled_font_and_has_its_glyphs() -> None:
    from matplotlib.ft2font import FT2Font

    from advisor.assess.chart import radar_figure, radar_png

    labels = ["空间共享", "產業鏈關聯", "Innovation and value", "生态健康与韧性"]
    figure = radar_figure(labels, [17.0, None, 80.0, 51.0], "未判断")
    texts = [t for t in figure.findobj(lambda a: hasattr(a, "get_fontproperties")) if t.get_text()]
    assert texts and all(t.get_fontproperties().get_file() == str(cjk_font_path()) for t in texts)
    face = FT2Font(str(cjk_font_path()))
    for char in "".join(labels) + "未判断":
        assert char.isspace() or face.get_char_index(ord(char)) != 0, f"no glyph for {char!r}"
    png = radar_png(labels, [17.0, None, 80.0, 51.0], "未判断")
    assert png.startswith(b"\x89PNG") and png == radar_png(labels, [17.0, None, 80.0, 51.0], "未判断")
