"""What the page renders from an Answer: clean chat text (as copied), the escaped sources panel, the table."""

from __future__ import annotations

from advisor.documents import DocumentRow
from advisor.i18n import t
from advisor.schema import Answer, Chunk, Citation, Passage
from advisor.web import render


def _passage(text: str, parallel: str | None = None, title: str = "<b>Title</b>") -> Passage:
    chunk = Chunk("c1", "doc", title, "en", text, 0, "corpus/doc.md", 3, 4)
    return Passage(chunk, 0.9, parallel)


def _answer(refused: bool = False, lang: str = "en", notices: tuple[str, ...] = ("note <i>",)) -> Answer:
    passage = _passage("<script>alert(1)</script> clusters", "集群")
    return Answer(
        "q",
        lang,  # type: ignore[arg-type]
        "Clusters (and parks) *matter* <img src=x>.[1]",
        refused,
        "extractive",
        () if refused else (Citation(1, passage),),
        (passage,),
        {"total": 12.0},
        notices=notices,
    )


def test_chat_text_is_clean_text_with_markers_and_sources_beneath() -> None:
    text = render.answer_text(_answer(notices=("The question was too long (1000 characters).",)))
    assert "<sup" not in text and "\\" not in text and "cite" not in text
    assert "(1000 characters)" in text and "(and parks) *matter*" in text and "[1]" in text
    assert text.splitlines()[-2:] == ["Sources", "[1] &lt;b>Title&lt;/b> — corpus/doc.md:3-4"]


def test_chat_text_cannot_open_a_tag_or_an_entity() -> None:
    text = render.answer_text(_answer())
    assert "<img" not in text and "&lt;img src=x>" in text and "note &lt;i>" in text
    assert render.chat_text("R&D, a < b, &amp;") == "R&D, a < b, &amp;amp;"


def test_a_refusal_heading_is_in_the_answers_language_not_the_interface_language() -> None:
    zh = render.answer_text(_answer(refused=True, lang="zh", notices=()))
    assert zh.startswith(f"⚠ {t('zh', 'not_covered')}") and t("zh", "related") in zh
    en = render.answer_text(_answer(refused=True, lang="en", notices=()))
    assert en.startswith(f"⚠ {t('en', 'not_covered')}")


def test_sources_panel_escapes_and_shows_parallel_text() -> None:
    panel = render.sources_html(_answer(), "en")
    assert "<script>" not in panel and "&lt;script&gt;" in panel and "&lt;b&gt;Title" in panel
    assert 'id="src-1"' in panel and "集群" in panel and "corpus/doc.md:3-4" in panel


def test_refused_panel_has_related_reading_and_the_timing_sits_outside_the_scrolled_list() -> None:
    panel = render.sources_html(_answer(refused=True), "zh")
    assert "sources-refused" in panel and t("zh", "related") in panel
    assert '</div><p class="src-footer">' in panel  # after the scrolled list, not inside it


def test_the_footer_names_the_index_version_the_passages_came_from() -> None:
    import dataclasses

    panel = render.sources_html(dataclasses.replace(_answer(), index_version=7), "zh")
    assert 'data-index-version="7"' in panel and t("zh", "index_version", version=7) in panel
    assert "data-index-version" not in render.sources_html(_answer(), "zh")  # no version known: none shown


def test_document_table_names_corpus_files_and_has_date_and_size() -> None:
    rows = [
        DocumentRow("d", "Doc", ("zh",), 12, "corpus/doc.md", "2025-09-16", 2048, False),
        DocumentRow("upload-1", "Mine", ("en",), 3, "mine.pdf", "2026-11-26", 1_500_000, True),
    ]
    table = render.document_rows(rows, "en")
    assert render.document_headers("en") == [
        "Title",
        "Language",
        "Passages",
        "File",
        "Date",
        "Size",
        "Origin",
    ]
    assert table[0][3:6] == ["corpus/doc.md", "2025-09-16", "2.0 KB"]
    assert table[1][5:] == ["1.4 MB", "uploaded"]
    assert render.human_size(None) == "—" and render.human_size(10) == "10 B"


def test_a_thinking_model_shows_a_mark_after_the_text_so_far() -> None:
    assert render.partial_text("", thinking=True, ui_lang="zh") == "思考中…"
    assert render.partial_text("Clusters") == "Clusters ▍"
    text = render.partial_text("Clusters [1]", thinking=True, ui_lang="en")
    assert text.startswith("Clusters [1]") and text.endswith("Thinking…")
