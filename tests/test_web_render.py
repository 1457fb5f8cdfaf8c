"""What the page renders from an Answer: escaped text, [n] badges, the refusal look, the sources panel."""

from __future__ import annotations

from advisor.schema import Answer, Chunk, Citation, Passage
from advisor.web import render
from advisor.web.i18n import browser_lang, t


def _passage(text: str, parallel: str | None = None) -> Passage:
    chunk = Chunk("c1", "doc", "<b>Title</b>", "en", text, 0, "corpus/doc.md", 3, 4)
    return Passage(chunk, 0.9, parallel)


def _answer(refused: bool = False) -> Answer:
    passage = _passage("<script>alert(1)</script> clusters", "集群")
    return Answer(
        "q",
        "en",
        "Clusters *matter* <img src=x>.[1]",
        refused,
        "extractive",
        () if refused else (Citation(1, passage),),
        (passage,),
        {"total": 12.0},
        notices=("note <i>",),
    )


def test_answer_text_is_escaped_and_markers_become_badges() -> None:
    md = render.answer_markdown(_answer(), "en")
    assert "<img" not in md and "&lt;img" in md and "\\*matter\\*" in md
    assert '<sup class="cite">[1]</sup>' in md and "note &lt;i&gt;" in md


def test_sources_panel_escapes_and_shows_parallel_text() -> None:
    panel = render.sources_html(_answer(), "en")
    assert "<script>" not in panel and "&lt;script&gt;" in panel and "&lt;b&gt;Title" in panel
    assert 'id="src-1"' in panel and "集群" in panel and "corpus/doc.md:3-4" in panel


def test_refusal_has_its_own_look_and_related_reading() -> None:
    answer = _answer(refused=True)
    assert 'class="advisor-refusal"' in render.answer_markdown(answer, "zh")
    panel = render.sources_html(answer, "zh")
    assert "sources-refused" in panel and t("zh", "related") in panel


def test_browser_language() -> None:
    assert browser_lang("zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert browser_lang("en-US,en;q=0.9,zh;q=0.8") == "en"
    assert browser_lang(None) == "en"


def test_a_thinking_model_shows_a_mark_after_the_text_so_far() -> None:
    assert (
        render.partial_markdown("", thinking=True, ui_lang="zh")
        == '<span class="advisor-thinking">思考中…</span>'
    )
    assert render.partial_markdown("Clusters") == "Clusters ▍"
    html = render.partial_markdown("Clusters <b> [1]", thinking=True, ui_lang="en")
    assert (
        html.startswith("Clusters &lt;b&gt; ")
        and 'class="cite">[1]' in html
        and html.endswith("Thinking…</span>")
    )
