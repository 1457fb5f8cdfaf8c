"""Citation markers in model output: parsed in every common form, invented ones dropped, renumbered in order."""

from __future__ import annotations

import pytest

from advisor.answer import messages
from advisor.answer.citations import (
    CitationRewriter,
    is_grounded,
    is_refusal,
    marker_numbers,
    rewrite_citations,
)


@pytest.mark.parametrize(
    ("inner", "numbers"),
    [("1", [1]), ("1, 3", [1, 3]), ("2，4、5", [2, 4, 5]), ("2-4", [2, 3, 4]), ("3 and 1", [3, 1])],
)
def test_marker_numbers(inner: str, numbers: list[int]) -> None:
    assert marker_numbers(inner) == numbers


def test_markers_in_every_form_become_plain_numbered_markers() -> None:
    cited = rewrite_citations("集群是网络【3】。集聚是集中[1, 3]。还有[2][3]。Also ［1］.", passages=5)
    assert cited.text == "集群是网络[1]。集聚是集中[2][1]。还有[3][1]。Also [2]."
    assert cited.order == (3, 1, 2) and cited.dropped == 0


def test_markers_to_no_retrieved_passage_are_removed_and_counted() -> None:
    cited = rewrite_citations(
        "Clusters share supply chains [1]. Parks grow [9]. Both matter [0][2, 7].", passages=5
    )
    assert cited.text == "Clusters share supply chains [1]. Parks grow. Both matter [2]."
    assert cited.dropped == 3 and cited.order == (1, 2)


def test_streaming_gives_the_same_text_however_the_output_is_split() -> None:
    text = "集群是网络 [1]。集聚 [9] 是集中【2】，见 [1, 6] 与 [a](b) 以及 [12"
    whole = rewrite_citations(text, passages=5)
    for size in (1, 2, 3, 7):
        rewriter = CitationRewriter(5)
        out = (
            "".join(rewriter.feed(text[i : i + size]) for i in range(0, len(text), size)) + rewriter.finish()
        )
        assert out.strip() == whole.text
        assert rewriter.dropped == whole.dropped == 2


def test_text_that_only_looks_like_a_marker_is_kept() -> None:
    assert rewrite_citations("See [the report](x) and [note].", 3).text == "See [the report](x) and [note]."


def test_an_answer_needs_valid_citations_on_most_claims() -> None:
    assert is_grounded(rewrite_citations("Clusters are networks of cooperating firms [1].", 3))
    assert not is_grounded(rewrite_citations("Clusters are networks of cooperating firms [7].", 3))
    uncited = (
        "Clusters are networks of firms [1].\nParks should subsidise everything.\nAnd build more roads now."
    )
    assert not is_grounded(rewrite_citations(uncited, 3))
    lead_in = (
        "There are three points:\n- Clusters are networks of firms [1].\n- Supply chains matter a lot [2]."
    )
    assert is_grounded(rewrite_citations(lead_in, 3))


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fixed_refusal_sentence_is_recognised(lang: str) -> None:
    refusal = messages.REFUSAL[lang]
    assert is_refusal(refusal, lang)  # type: ignore[arg-type]
    assert is_refusal(f"  {refusal}\n", lang)  # type: ignore[arg-type]
    assert not is_refusal("Clusters are networks [1].", lang)  # type: ignore[arg-type]
    assert not is_refusal(refusal + " But here is a long answer anyway about clusters and parks. " * 3, lang)  # type: ignore[arg-type]
