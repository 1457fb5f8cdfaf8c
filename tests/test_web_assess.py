"""The Diagnose tab without a browser: its handlers as plain functions, and the tab inside the real page layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from advisor.assess.framework import DEFAULT_DIR
from advisor.assess.service import Assessor
from advisor.assess.store import AssessmentStore
from advisor.web import assess_tab

EXAMPLE = DEFAULT_DIR / "examples" / "park-agglomeration.yaml"


@pytest.fixture
def assessor(corpus_advisor: Any, tmp_path: Path) -> Assessor:
    return Assessor(corpus_advisor, store=AssessmentStore(tmp_path / "saved"))


def test_each_question_says_why_with_the_passage_it_comes_from(assessor: Assessor) -> None:
    criterion = assessor.frameworks["park"].criteria_by_id["chain_collaboration"]
    info = assess_tab.question_info(assessor, criterion, "zh")
    assert criterion.why("zh") in info and "corpus/cluster-vs-agglomeration.md:" in info
    english = assess_tab.question_info(assessor, assessor.frameworks["enterprise"].criteria[0], "en")
    assert (
        english.startswith("Why we ask:") and "VCM 9/10 Industrial Cluster Model" in english
    )  # the English side
    assert assess_tab.choices(criterion, "en") == [
        ("skip", ""),
        ("yes", "yes"),
        ("partly", "partly"),
        ("no", "no"),
    ]


def test_building_a_report_writes_the_files_and_shows_the_report(assessor: Assessor, tmp_path: Path) -> None:
    typed = {k: f"{v:g} %" if isinstance(v, float) else v for k, v in assessor.load(EXAMPLE).answers.items()}
    answers = typed | {"tiered_structure": "", "value_density": "  "}  # as the form sends them
    view = assess_tab.build_report(
        assessor, "park", "en", "Park A", answers, tmp_path / "r", "2025-01-01T00:00:00+00:00"
    )
    assert view.status.startswith("The report is ready.") and "Saved as “Park A”" in view.status
    assert set(view.files) == {"md", "docx", "pdf"} and all(Path(p).is_file() for p in view.files.values())
    assert view.chart is not None and Path(view.chart).read_bytes().startswith(b"\x89PNG")
    assert "Current stage: Agglomeration" in view.markdown and "](radar.png)" not in view.markdown
    unjudged = view.markdown.split("## What could not be judged")[1]
    assert "Three tiers" in unjudged and "Ecosystem value density (" in unjudged  # skipped on the form
    assert "| Technology trading activity | Innovation and value | 37 % | 0.37 |" in view.markdown
    assert [r.id for r in assessor.saved()] == ["park-a"]


@pytest.mark.parametrize("typed", ["9999", "lots"])
def test_a_wrong_answer_gives_a_message_and_no_files(assessor: Assessor, tmp_path: Path, typed: str) -> None:
    view = assess_tab.build_report(
        assessor, "park", "zh", "", {"value_density": typed}, tmp_path / "r", "now"
    )
    assert "answers.value_density" in view.status and not view.files and not (tmp_path / "r").exists()


def test_saved_assessments_reopen_into_the_form_and_compare(assessor: Assessor) -> None:
    low = assessor.assess(assessor.load(EXAMPLE))
    high = assessor.assess(assessor.load(DEFAULT_DIR / "examples" / "park-mature-cluster.yaml"))
    assessor.save(low, "2024", "2024-12-31T00:00:00+00:00")
    assessor.save(high, "2025", "2025-12-31T00:00:00+00:00")
    assert [value for _, value in assess_tab.saved_choices(assessor)] == ["2025", "2024"]
    kind, answers = assess_tab.open_saved(assessor, "2024")
    assert kind == "park" and answers["chain_collaboration"] == "no"
    table = assess_tab.compare_saved(assessor, "2024", "2025", "en")
    assert (
        "| Internal linkage | 0 | 70 | +70 |" in table
        and "| Stage | Agglomeration | Mature cluster |" in table
    )
    assert assess_tab.compare_saved(assessor, "2024", "nobody", "en").startswith("⚠")


def test_the_api_takes_an_answers_document_as_json(assessor: Assessor) -> None:
    data = json.loads(json.dumps(assessor.load(EXAMPLE).to_dict()))
    result = assess_tab.assess_api(assessor, json.dumps(data), "en")
    assert result["stage"]["name"] == "Agglomeration" and result["citations"]
    import gradio as gr

    with pytest.raises(gr.Error, match=r"answers\.value_density"):
        assess_tab.assess_api(assessor, json.dumps({"kind": "park", "answers": {"value_density": "x"}}))


def test_the_tab_is_part_of_the_page(corpus_advisor: Any, tmp_path: Path) -> None:
    from advisor.auth import Access
    from advisor.conversations import ConversationStore
    from advisor.feedback import FeedbackStore
    from advisor.knowledge import KnowledgeBases
    from advisor.web.app import build_app

    stores = ConversationStore(tmp_path / "c.sqlite"), FeedbackStore(tmp_path / "f.sqlite")
    bases = KnowledgeBases(corpus_advisor.settings, corpus_advisor)
    demo = build_app(bases, *stores, Access(corpus_advisor.settings))
    config = demo.get_config_file()
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {
        "tab-assess",
        "assess-kind",
        "assess-submit",
        "assess-pdf",
        "q-chain_collaboration",
        "q-value_density",
    } <= ids
    assert "assess" in {d.get("api_name") for d in config["dependencies"]}
