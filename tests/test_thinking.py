"""Thinking is never an answer: <think> blocks in the text, reasoning in its own field, split or unclosed tags."""

from __future__ import annotations

import pytest

from advisor.answer.thinking import ThinkFilter
from advisor.schema import Delta, Progress, Thinking

REPLY = "<think>\nOkay, the user asks about clusters. Passage [3] fits.\n</think>\n\n集群是共生网络[1]。"


def run(chunks: list[str]) -> tuple[str, list[Progress]]:
    think = ThinkFilter()
    events = [e for chunk in chunks for e in think.feed(chunk)] + think.finish()
    return "".join(e.text for e in events if isinstance(e, Delta)), events


def test_a_think_block_is_dropped_and_signalled_once() -> None:
    text, events = run([REPLY])
    assert text == "集群是共生网络[1]。"
    assert events[0] == Thinking() and events.count(Thinking()) == 1


@pytest.mark.parametrize("cut", range(1, len(REPLY)))
def test_tags_split_anywhere_across_two_chunks(cut: int) -> None:
    assert run([REPLY[:cut], REPLY[cut:]])[0] == "集群是共生网络[1]。"


def test_a_reply_streamed_one_character_at_a_time() -> None:
    assert run(list(REPLY))[0] == "集群是共生网络[1]。"


def test_an_unclosed_think_at_the_start_leaves_no_answer() -> None:
    text, events = run(["<think>Okay, the user", " asks [3] and I keep thinking…"])
    assert text == "" and events == [Thinking()]


def test_while_inside_a_block_the_model_counts_as_thinking() -> None:
    think = ThinkFilter()
    think.feed("<think>Okay")
    assert think.thinking
    think.feed("</think>Answer")
    assert not think.thinking


def test_a_closing_tag_without_an_opening_one_retracts_what_was_shown() -> None:
    """Servers whose chat template puts <think> in the prompt (QwQ, DeepSeek-R1) send only the closing tag."""
    think = ThinkFilter()
    shown = think.feed("Okay, the user asks [3]…")
    assert shown == [Delta("Okay, the user asks [3]…")]  # it looked like an answer until now
    assert think.feed("\n</think>\n\n集群是网络[1]。") == [Thinking(retract=True), Delta("集群是网络[1]。")]


def test_reasoning_in_its_own_field_is_a_signal_and_never_text() -> None:
    think = ThinkFilter()
    assert think.feed("", reasoning=True) == [Thinking()]
    assert think.thinking and think.feed("", reasoning=True) == []  # one signal per stretch of thinking
    assert think.feed("集群[1]") == [Delta("集群[1]")] and not think.thinking


@pytest.mark.parametrize(
    "text",
    ["a < b, and x<y", "使用 <thinking-cap> 标签", "ends with <", "<THINK>upper</THINK>ok", "<b>bold</b>"],
)
def test_other_angle_brackets_pass_through(text: str) -> None:
    expected = "ok" if text.startswith("<THINK>") else text
    assert run([text])[0] == expected
