"""The LLM answer chain with scripted fake chat models: citations, refusal, fallbacks, deadlines, follow-ups."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from advisor.answer import messages
from advisor.answer.backends import LLMConfig, chat_model_factory
from advisor.answer.condense import heuristic_standalone, is_follow_up, key_terms, standalone_question
from advisor.answer.extractive import ExtractiveAnswerer
from advisor.answer.llm import LLMAnswerer, LLMError, classify, message_parts, retry_after
from advisor.answer.prompts import PromptLibrary
from advisor.answer.question import prepare_question
from advisor.config import Settings
from advisor.core import Advisor
from advisor.embed.fake import HashEmbedder
from advisor.schema import (
    AnswerStream,
    Chunk,
    Deadline,
    Delta,
    Draft,
    Final,
    Passage,
    Question,
    Thinking,
    Verdict,
)

from .fakes.chat_model import ScriptedChatModel, scripted


def passage(n: int, text: str, lang: str = "zh") -> Passage:
    return Passage(Chunk(f"d:{n}", "d", f"T{n}", lang, text, n, "corpus/d.md", n + 1, n + 1), 1.0 - n / 10)  # type: ignore[arg-type]


PASSAGES = [
    passage(0, "产业集群是有组织的共生网络。企业之间存在稳定的产业链协作。"),
    passage(1, "产业集聚只是地理上的集中。企业之间不一定存在紧密的经济联系。"),
    passage(2, "A cluster is an organised network of firms linked by supply chains.", "en"),
    passage(3, "园区应当围绕主导产业补链强链，而不是简单招商。"),
    passage(4, "Small firms in a cluster share suppliers and skilled workers.", "en"),
]


def answerer(model: ScriptedChatModel, **kwargs: Any) -> LLMAnswerer:
    options = {"timeout_s": 5.0, "retries": 2, "backoff_s": 0.01, **kwargs}
    return LLMAnswerer(
        "openai", lambda timeout: model, ExtractiveAnswerer(HashEmbedder()), PromptLibrary(), **options
    )


def run(llm: LLMAnswerer, question: str) -> tuple[str, Draft]:
    """What was streamed (as a surface shows it: a retraction clears it) and the Draft."""
    stream = llm.stream(prepare_question(question, 500), PASSAGES)
    deltas: list[str] = []
    while True:
        try:
            event = next(stream)
        except StopIteration as stop:
            assert isinstance(stop.value, Draft)
            return "".join(deltas), stop.value
        if isinstance(event, Delta):
            deltas.append(event.text)
        elif event.retract:
            deltas.clear()


def test_a_cited_answer_keeps_its_citations_renumbered_in_order() -> None:
    model = scripted("集群是共生网络【3】，而集聚只是地理集中[2]。两者都需要产业链协作[3, 1]。")
    streamed, draft = run(answerer(model), "产业集聚和产业集群有什么区别？")
    assert draft.text == "集群是共生网络[1]，而集聚只是地理集中[2]。两者都需要产业链协作[1][3]。"
    assert streamed.strip() == draft.text  # what was streamed is what the Answer says
    assert [c.passage for c in draft.citations] == [PASSAGES[2], PASSAGES[1], PASSAGES[0]]
    assert [c.n for c in draft.citations] == [1, 2, 3]
    assert not draft.refused and draft.fallback is None and draft.dropped_citations == 0
    assert draft.prompt is not None and draft.prompt.startswith("answer.zh@")


def test_invented_markers_are_dropped_and_counted() -> None:
    model = scripted("Clusters are networks of firms [3]. They also win every subsidy [9].")
    _, draft = run(answerer(model), "What is an industrial cluster?")
    assert draft.text == "Clusters are networks of firms [1]. They also win every subsidy."
    assert draft.dropped_citations == 1 and draft.fallback is None


def test_an_answer_with_no_valid_citation_falls_back_to_the_extractive_answer() -> None:
    model = scripted("Clusters are networks of firms [7]. Parks should grow [8].")
    _, draft = run(answerer(model), "产业集群是什么？")
    assert draft.fallback == "no_valid_citations" and draft.dropped_citations == 2
    assert draft.citations and "[7]" not in draft.text  # the extractive answer, with its own citations
    assert len(model.calls) == 1  # an ungrounded answer is not retried


def test_an_answer_with_no_markers_at_all_is_not_shown_as_grounded() -> None:
    _, draft = run(
        answerer(scripted("Clusters are great and every park should build one.")), "What is a cluster?"
    )
    assert draft.fallback == "no_valid_citations"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_fixed_refusal_sentence_marks_the_answer_refused(lang: str) -> None:
    model = scripted(messages.REFUSAL[lang])
    _, draft = run(answerer(model), "合肥的产业集群政策？" if lang == "zh" else "What about Hefei's policy?")
    assert draft.refused and draft.text == messages.REFUSAL[lang] and not draft.citations
    assert draft.fallback is None


@pytest.mark.parametrize(
    ("question", "system_words", "lang"),
    [("产业集群是什么？", "用中文回答", "zh"), ("What is a cluster?", "Answer in English", "en")],
)
def test_the_prompt_follows_the_question_language(question: str, system_words: str, lang: str) -> None:
    model = scripted()
    _, draft = run(answerer(model), question)
    assert system_words in model.system_prompt()
    assert messages.REFUSAL[lang] in model.system_prompt()
    user = model.user_prompt()
    assert question in user and all(p.chunk.text in user for p in PASSAGES)
    assert '<passage n="5" lang="en"' in user
    assert draft.prompt is not None and draft.prompt.startswith(f"answer.{lang}@")


def test_failures_are_retried_then_answered() -> None:
    model = scripted(ConnectionError("refused"), TimeoutError(), "Clusters are networks of firms [3].")
    _, draft = run(answerer(model), "What is a cluster?")
    assert draft.fallback is None and len(model.calls) == 3


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        (ConnectionError("refused"), "connection_error"),
        (ValueError("bad json"), "malformed_output"),
        ("", "empty_output"),
    ],
)
def test_a_model_that_keeps_failing_ends_in_the_extractive_answer(failure: object, reason: str) -> None:
    model = scripted(failure, failure, failure, "never reached [1]")
    _, draft = run(answerer(model), "产业集群是什么？")
    assert draft.fallback == reason and draft.citations and len(model.calls) == 3


def test_a_client_error_is_not_retried() -> None:
    class Unauthorized(Exception):
        status_code = 401

    model = scripted(Unauthorized("bad key"))
    _, draft = run(answerer(model), "产业集群是什么？")
    assert draft.fallback == "auth_error" and len(model.calls) == 1


def test_the_total_deadline_bounds_a_stalled_model() -> None:
    model = scripted(delay_s=3.0)
    started = time.monotonic()
    _, draft = run(answerer(model, timeout_s=0.5), "产业集群是什么？")
    assert time.monotonic() - started < 1.5
    assert draft.fallback == "timeout"


def test_thinking_is_never_answer_text_nor_a_citation() -> None:
    model = scripted("<think>Okay, the user wants passage [4] first.</think>\n\n集群是共生网络[1]。")
    stream = answerer(model).stream(prepare_question("产业集群是什么？", 500), PASSAGES)
    events = []
    with pytest.raises(StopIteration) as stop:
        while True:
            events.append(next(stream))
    draft = stop.value.value
    assert events[0] == Thinking() and all(isinstance(e, Delta) for e in events[1:])
    assert draft.text == "集群是共生网络[1]。" and [c.passage for c in draft.citations] == [PASSAGES[0]]


def test_a_reply_that_only_closes_its_thinking_has_its_thinking_markers_forgotten() -> None:
    model = scripted("Okay, the user wants passage [4] and [5] first.\n</think>\n\n集群是共生网络[1]。")
    streamed, draft = run(answerer(model), "产业集群是什么？")
    assert streamed.strip() == draft.text == "集群是共生网络[1]。"
    assert [c.passage for c in draft.citations] == [PASSAGES[0]] and draft.dropped_citations == 0


def test_a_model_that_never_stops_thinking_gives_no_answer() -> None:
    unclosed = "<think>Okay, the user asks [3] and I keep thinking"
    model = scripted(unclosed, unclosed, unclosed)
    streamed, draft = run(answerer(model), "产业集群是什么？")
    assert streamed == "" and draft.fallback == "empty_output" and "Okay" not in draft.text


def test_the_answer_stream_yields_only_answer_text() -> None:
    answer = Final(answer=None)  # type: ignore[arg-type]
    stream = AnswerStream(iter([Thinking(), Delta("集群"), Thinking(), Delta("[1]"), answer]))
    assert list(stream) == ["集群", "[1]"]


def test_message_parts_keep_reasoning_out_of_the_text() -> None:
    from langchain_core.messages import AIMessageChunk

    chunk = AIMessageChunk(content="", additional_kwargs={"reasoning_content": "Okay, the user"})
    assert message_parts(chunk) == ("", True)
    blocks = AIMessageChunk(
        content=[{"type": "reasoning", "reasoning": "Okay"}, {"type": "text", "text": "集群[1]"}]
    )
    assert message_parts(blocks) == ("集群[1]", True)
    assert message_parts(AIMessageChunk(content="集群")) == ("集群", False)


def test_retry_after_reads_seconds_milliseconds_and_http_dates() -> None:
    import email.utils

    class Response:
        def __init__(self, **headers: str) -> None:
            self.headers = {k.replace("_", "-"): v for k, v in headers.items()}

    class Limited(Exception):
        status_code = 429

        def __init__(self, **headers: str) -> None:
            self.response = Response(**headers)

    assert retry_after(Limited(retry_after="1")) == 1.0
    assert retry_after(Limited(retry_after_ms="1500", retry_after="9")) == 1.5
    in_5_s = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.5 < (retry_after(Limited(retry_after=in_5_s)) or 0) <= 5.0
    assert retry_after(Limited(retry_after=email.utils.formatdate(0, usegmt=True))) == 0.0  # in the past
    assert retry_after(Limited(retry_after="soon")) is None and retry_after(Limited()) is None
    assert classify(Limited(retry_after="2")).retry_after == 2.0


def test_classify_maps_errors_to_reasons() -> None:
    class Status(Exception):
        def __init__(self, code: int) -> None:
            self.status_code = code

    assert classify(Status(429)).reason == "http_429" and classify(Status(429)).retryable
    assert classify(Status(503)).reason == "http_503"
    assert not classify(Status(404)).retryable
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = TimeoutError()
    assert classify(wrapped).reason == "timeout"


def test_backends_need_a_model_name_and_never_show_the_key() -> None:
    with pytest.raises(LLMError, match="not_configured"):
        chat_model_factory(LLMConfig("openai", model=""))
    with pytest.raises(LLMError, match="unknown_backend"):
        chat_model_factory(LLMConfig("gpt", model="x"))
    config = LLMConfig("openai", model="m", base_url="http://127.0.0.1:9/v1", api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(config) and "sk-very-secret" not in str(config)


# --- follow-up questions ---------------------------------------------------------------------------


def q(text: str) -> Question:
    return prepare_question(text, 500)


def test_short_or_anaphoric_questions_are_follow_ups() -> None:
    assert is_follow_up(q("那第二种呢？")) and is_follow_up(q("and what about small firms?"))
    assert is_follow_up(q("How does it differ for small firms in the region?"))
    assert not is_follow_up(q("产业集聚和产业集群有什么本质区别，园区应该如何判断？"))
    assert not is_follow_up(q("How can a park operator tell an agglomeration from a real cluster?"))


def test_a_short_question_is_a_follow_up_only_when_it_refers_back() -> None:
    assert not is_follow_up(q("What is an industrial ecosystem?"))  # short, but complete
    assert not is_follow_up(q("什么是资源循环型产业生态？"))
    assert is_follow_up(q("为什么？")) and is_follow_up(q("How so?")) and is_follow_up(q("小企业呢？"))
    history = [("What does Paris do for its clusters?", "...")]
    assert (
        heuristic_standalone(q("What is an industrial ecosystem?"), history)
        == "What is an industrial ecosystem?"
    )


def test_the_heuristic_puts_the_previous_questions_key_terms_first() -> None:
    history = [("产业集群有哪几种类型？", "有两种[1]。")]
    rewritten = heuristic_standalone(q("那第二种呢？"), history)
    assert rewritten.endswith("那第二种呢？") and "产业集群" in rewritten and "类型" in rewritten
    en = heuristic_standalone(q("and what about small firms?"), [("How do clusters share suppliers?", "...")])
    assert en.startswith("clusters") or "clusters" in en.split()
    assert en.endswith("and what about small firms?") and "suppliers" in en
    standalone = "What is the difference between an agglomeration and a cluster?"
    assert heuristic_standalone(q(standalone), history) == standalone
    assert heuristic_standalone(q("那第二种呢？"), []) == "那第二种呢？"


def test_the_heuristic_follows_a_chain_of_follow_ups() -> None:
    history = [("What is an industrial ecosystem?", "..."), ("and its main risks?", "...")]
    assert "ecosystem" in heuristic_standalone(q("how about for small firms?"), history)


def test_key_terms_skip_stopwords() -> None:
    assert "what" not in [t.lower() for t in key_terms("What is the role of suppliers in a cluster?")]
    assert "产业集群" in key_terms("什么是产业集群？")


def test_the_model_rewrites_follow_ups_and_the_heuristic_covers_its_failures() -> None:
    model = scripted('问题："产业集群的第二种类型有什么特点？"\n解释：……')
    llm = answerer(model)
    history = [("产业集群有哪几种类型？", "有两种[1]。")]
    rewrite = lambda question, turns: llm.rewrite(question, turns, Deadline(5))  # noqa: E731
    assert standalone_question(q("那第二种呢？"), history, rewrite) == "产业集群的第二种类型有什么特点？"
    condense_prompt = model.user_prompt()
    assert "产业集群有哪几种类型？" in condense_prompt and "那第二种呢？" in condense_prompt
    assert len(model.calls[0]) == 1  # one self-contained message, no answering system prompt
    failing = answerer(scripted(ConnectionError(), ConnectionError(), ConnectionError()))
    rewrite = lambda question, turns: failing.rewrite(question, turns, Deadline(5))  # noqa: E731
    assert standalone_question(q("那第二种呢？"), history, rewrite) == heuristic_standalone(
        q("那第二种呢？"), history
    )


# --- through the core (hash embedder, real Chroma; the evidence check is forced where noted) ----------


@pytest.fixture
def hash_advisor(isolated_home: Path) -> Iterator[Advisor]:
    advisor = Advisor(Settings(home=isolated_home, llm_timeout_s=5), embedders=[HashEmbedder()])
    advisor.ingest()
    yield advisor


def use_model(
    advisor: Advisor, model: ScriptedChatModel, monkeypatch: pytest.MonkeyPatch, sufficient: bool = True
) -> None:
    advisor.chat_models["openai"] = lambda timeout: model
    advisor._llm.clear()
    monkeypatch.setattr(advisor, "gate", lambda *a, **k: Verdict(sufficient))


def test_core_streams_the_llm_answer_and_ends_with_the_answer(
    hash_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_model(hash_advisor, scripted("集群是有组织的网络[1]，集聚只是集中[2]。"), monkeypatch)
    events = list(hash_advisor.ask_stream("产业集聚和产业集群有什么区别？", backend="openai"))
    final = events[-1]
    assert isinstance(final, Final) and all(isinstance(e, Delta) for e in events[:-1]) and len(events) > 2
    answer = final.answer
    assert "".join(e.text for e in events[:-1] if isinstance(e, Delta)).strip() == answer.text
    data = answer.to_dict()
    assert data["backend"] == "openai" and not data["refused"] and data["fallback"] is None
    assert data["prompt"].startswith("answer.zh@") and data["dropped_citations"] == 0
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert data["citations"][0]["text"] == answer.passages[0].chunk.text


def test_core_refuses_without_calling_the_model_when_evidence_is_thin(
    hash_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = scripted()
    use_model(hash_advisor, model, monkeypatch, sufficient=False)
    answer = hash_advisor.ask("What was Hefei's GDP in 2023?", backend="openai")
    assert answer.refused and answer.text == messages.REFUSAL["en"] and model.calls == []


def test_core_falls_back_with_a_visible_notice(
    hash_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_model(hash_advisor, scripted(ConnectionError(), ConnectionError(), ConnectionError()), monkeypatch)
    answer = hash_advisor.ask("产业集群是什么？", backend="openai")
    assert answer.backend == "extractive" and answer.fallback == "connection_error"
    assert any("无法连接" in n and "摘录式" in n for n in answer.notices)


def test_core_uses_the_standalone_question_for_follow_ups(
    hash_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = scripted("产业集聚有什么特点？", "产业集聚只是地理上的集中[1]。")
    use_model(hash_advisor, model, monkeypatch)
    history = [("产业集聚和产业集群有什么区别？", "集群是网络[1]，集聚是集中[2]。")]
    answer = hash_advisor.ask("那第二种呢？", history=history, backend="openai")
    assert answer.question == "那第二种呢？" and answer.standalone_question == "产业集聚有什么特点？"
    assert "产业集聚有什么特点？" in model.user_prompt() and "condense" in answer.timings_ms
    extractive = hash_advisor.ask("那第二种呢？", history=history)
    assert extractive.standalone_question is not None and "产业集群" in extractive.standalone_question


def test_a_backend_without_configuration_says_so(
    hash_advisor: Advisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(hash_advisor, "gate", lambda *a, **k: Verdict(True))
    answer = hash_advisor.ask("What is an industrial cluster?", backend="ollama")
    assert answer.backend == "extractive" and answer.fallback == "not_configured"
    assert any("ADVISOR_LLM_MODEL" in n for n in answer.notices)


def test_importing_the_package_does_not_import_llm_clients() -> None:
    import subprocess
    import sys

    code = "import sys, advisor.core, advisor.cli; print([m for m in ('langchain_openai', 'langchain_ollama', 'openai') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_a_rewrite_that_is_really_an_answer_is_not_used() -> None:
    history = [("产业集群有哪几种类型？", "有两种[1]。")]
    answer_like = answerer(scripted("产业集群分为两种[1]，第二种是生态型集群[2]。"))
    rewrite = lambda question, turns: answer_like.rewrite(question, turns, Deadline(5))  # noqa: E731
    assert standalone_question(q("那第二种呢？"), history, rewrite) == heuristic_standalone(
        q("那第二种呢？"), history
    )


# --- on the real models and index ------------------------------------------------------------------


@pytest.fixture
def real_with_model(real_advisor: Any) -> Iterator[tuple[Advisor, ScriptedChatModel]]:
    model = scripted()
    real_advisor.chat_models["openai"] = lambda timeout: model
    real_advisor._llm.clear()
    yield real_advisor, model
    real_advisor.chat_models.pop("openai")
    real_advisor._llm.clear()


@pytest.mark.slow
def test_real_unanswerable_question_is_refused_without_calling_the_model(
    real_with_model: tuple[Advisor, ScriptedChatModel],
) -> None:
    advisor, model = real_with_model
    answer = advisor.ask("What was the GDP of Hefei in 2023?", backend="openai")
    assert answer.refused and model.calls == [] and answer.prompt is None


@pytest.mark.slow
def test_real_english_question_gets_chinese_passages_cited_in_the_original(
    real_with_model: tuple[Advisor, ScriptedChatModel],
) -> None:
    advisor, model = real_with_model
    model.enqueue("An agglomeration is mere co-location; a cluster is an organised network of firms [1].")
    answer = advisor.ask("How do I tell an agglomeration from a real cluster?", backend="openai")
    assert answer.backend == "openai" and not answer.refused, answer.notices
    assert "Answer in English" in model.system_prompt()
    cited = answer.citations[0].passage
    assert cited.chunk.text in model.user_prompt()  # the model saw the verbatim passage the reader is shown


@pytest.mark.slow
def test_real_extractive_follow_up_retrieves_with_the_previous_topic(real_advisor: Any) -> None:
    history = [("产业集聚和产业集群有什么区别？", "……")]
    answer = real_advisor.ask("那怎么判断呢？", history=history)
    assert answer.standalone_question and "产业集聚" in answer.standalone_question
    assert answer.passages[0].chunk.doc_id == "cluster-vs-agglomeration"
