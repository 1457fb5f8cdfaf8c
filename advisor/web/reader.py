"""The citation reader: click [n] in an answer and read that source where it stands in its document.

The page's script (`CLICK_JS`) finds which [n] of which answer was clicked and hands "answer:n" to
`open_citation`. The reader shows every indexed passage of the cited document in its language, the cited
passage outlined and each sentence the answer quoted marked; the script scrolls the mark into view.
Previous/next walk the answer's citations in order.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import gradio as gr

from ..i18n import t
from ..schema import Answer, Chunk, Citation
from .chat import Conversation, Cores
from .updates import Updates

TARGET = re.compile(r"^(\d{1,4}):(\d{1,3})$")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_LIST_MARK = re.compile(r"^\s*(?:[-•*]|\d+[.)、])\s*")

# Run once by the hidden bridge (a gr.HTML): a click on "[n]" in an answer — the chat text is plain, so the
# marker is found at the caret under the pointer — sends "answer number:n:nonce" to `open_citation`.
BRIDGE_JS = """
document.addEventListener('click', (event) => {
  const answers = '#chat [aria-label^="bot\\'s message"]';
  const bot = event.target.closest && event.target.closest(answers);
  if (!bot || !document.caretRangeFromPoint) return;
  const range = document.caretRangeFromPoint(event.clientX, event.clientY);
  if (!range || range.startContainer.nodeType !== Node.TEXT_NODE) return;
  const text = range.startContainer.textContent, at = range.startOffset;
  for (const m of text.matchAll(/\\[(\\d{1,3})\\]/g)) {
    if (m.index <= at && at <= m.index + m[0].length) {
      props.value = [...document.querySelectorAll(answers)].indexOf(bot) + ':' + m[1] + ':' + Date.now();
      trigger('click');
      return;
    }
  }
});
"""
# Scrolls the reader's document to the marked sentence each time it shows a citation; the reader may only
# just have become visible (no height yet), so it tries again for a moment.
SCROLL_JS = """
const show = (tries) => {
  const doc = element.querySelector('.reader-doc');
  const mark = element.querySelector('mark.cite-mark') || element.querySelector('.doc-cited');
  if (!doc || !mark) return;
  if (doc.clientHeight === 0 && tries > 0) { setTimeout(() => show(tries - 1), 50); return; }
  doc.scrollTop = Math.max(0, mark.offsetTop - doc.clientHeight / 3);
};
show(40);  // the reader is mounted when it first opens, already holding its first citation
watch('value', () => show(40));
"""


@dataclass(frozen=True)
class ReaderAt:
    """Which citation the reader shows: the exchange (0-based) and the citation's number."""

    exchange: int
    n: int


def quoted(answer_text: str, n: int) -> list[str]:
    """The text each [n] in an answer closes: from the previous marker (or line start) up to it."""
    pieces = []
    for line in answer_text.splitlines():
        start = 0
        for marker in _MARKER.finditer(line):
            if int(marker.group(1)) == n:
                piece = _LIST_MARK.sub("", line[start : marker.start()]).strip()
                if piece:
                    pieces.append(piece)
            start = marker.end()
    return pieces


def _bigrams(text: str) -> set[str]:
    flat = "".join(text.split()).lower()
    return {flat[i : i + 2] for i in range(len(flat) - 1)}


def cited_spans(answer_text: str, n: int, passage: str) -> list[tuple[int, int]]:
    """Where in the passage the answer's [n] quotes it: verbatim when it can, else the closest sentence."""
    from ..text import split_sentences

    spans = []
    for piece in quoted(answer_text, n):
        at = passage.find(piece.rstrip("；;。.,，"))
        if at >= 0:
            spans.append((at, at + len(piece.rstrip("；;。.,，"))))
            continue
        want = _bigrams(piece)
        best, best_span = 0.0, None
        cursor = 0
        for sentence in split_sentences(passage):
            found = passage.find(sentence, cursor)
            if found < 0:
                continue
            cursor = found + len(sentence)
            have = _bigrams(sentence)
            score = len(want & have) / max(1, len(have))
            if score > best:
                best, best_span = score, (found, cursor)
        if best_span is not None and best >= 0.3:
            spans.append(best_span)
    return sorted(set(spans))


def _marked(text: str, spans: list[tuple[int, int]]) -> str:
    out, cursor = [], 0
    for start, end in spans:
        if start < cursor:
            continue
        out += [
            html.escape(text[cursor:start]),
            f'<mark class="cite-mark">{html.escape(text[start:end])}</mark>',
        ]
        cursor = end
    out.append(html.escape(text[cursor:]))
    return "".join(out)


def document_html(answer: Answer, citation: Citation, chunks: list[Chunk], lang: str) -> str:
    """The cited document, every passage in order, the cited one outlined and its quoted sentences marked."""
    cited = citation.passage.chunk
    if not any(c.chunk_id == cited.chunk_id for c in chunks):
        chunks = [cited]
    spans = cited_spans(answer.text, citation.n, cited.text)
    paragraphs = []
    for chunk in chunks:
        if chunk.chunk_id == cited.chunk_id:
            body = _marked(chunk.text, spans)
            paragraphs.append(f'<p class="doc-p doc-cited" lang="{chunk.lang}">{body}</p>')
        else:
            paragraphs.append(f'<p class="doc-p" lang="{chunk.lang}">{html.escape(chunk.text)}</p>')
    total = len(answer.citations)
    return (
        f'<div class="reader" data-n="{citation.n}"><div class="reader-head">'
        f'<span class="src-n">{citation.n}</span><span class="reader-title">{html.escape(cited.title)}</span>'
        f'<span class="src-loc">{html.escape(cited.location)}</span>'
        f'<span class="reader-of">{html.escape(t(lang, "reader_of", n=citation.n, total=total))}</span></div>'
        f'<div class="reader-doc">{"".join(paragraphs)}</div></div>'
    )


def _show(cores: Cores, conversation: Conversation, lang: str, at: ReaderAt) -> Updates:
    answer = conversation.answered(at.exchange)
    citation = next((c for c in answer.citations if c.n == at.n), None) if answer else None
    if answer is None or citation is None:
        return {}
    chunk = citation.passage.chunk
    chunks = cores.core(conversation.kb).document(chunk.doc_id, chunk.lang)
    return {
        "reader": document_html(answer, citation, chunks, lang),
        "reader_box": gr.update(visible=True),
        "sources": gr.update(visible=False),
        "reader_at": at,
        "reader_prev": gr.update(interactive=at.n > 1),
        "reader_next": gr.update(interactive=at.n < len(answer.citations)),
    }


def open_citation(cores: Cores, conversation: Conversation, lang: str, target: str) -> Updates:
    """A click on [n]: "answer number:n[:nonce]" from the page's script; anything else does nothing."""
    match = TARGET.match(":".join((target or "").split(":")[:2]))
    if not match:
        return {}
    return _show(cores, conversation, lang, ReaderAt(int(match.group(1)), int(match.group(2))))


def step(cores: Cores, conversation: Conversation, lang: str, at: ReaderAt | None, delta: int) -> Updates:
    """Previous (-1) or next (+1) citation of the same answer."""
    if at is None:
        return {}
    return _show(cores, conversation, lang, ReaderAt(at.exchange, at.n + delta))


def close() -> Updates:
    """Back to the list of sources."""
    return {"reader_box": gr.update(visible=False), "sources": gr.update(visible=True), "reader_at": None}


def relabel(lang: str) -> Updates:
    return {
        "reader_prev": gr.update(value=t(lang, "reader_prev")),
        "reader_next": gr.update(value=t(lang, "reader_next")),
        "reader_close": gr.update(value=t(lang, "reader_close")),
    }
