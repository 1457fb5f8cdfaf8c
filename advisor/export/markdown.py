"""Render a Document as Markdown; figures are referenced by file name and written beside it by the caller.

A line break inside a paragraph or list item stays a line break (two spaces before the newline).
"""

from __future__ import annotations

from .model import Bullets, Document, Figure, Heading, Paragraph, SourceList, Table


def _cell(text: str) -> str:
    """A table cell on one line, with its pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _quote(text: str) -> str:
    """A block quote that keeps the passage's own line breaks."""
    return "  \n".join(f"> {line}" if line.strip() else ">" for line in text.strip().splitlines())


def to_markdown(doc: Document) -> str:
    """The whole document as Markdown text (ends with one newline)."""
    parts = [f"# {doc.title}"]
    if doc.subtitle:
        parts.append(f"*{doc.subtitle}*")
    if doc.date:
        parts.append(doc.date)
    for block in doc.blocks:
        if isinstance(block, Heading):
            parts.append(f"{'#' * min(block.level + 1, 6)} {block.text}")
        elif isinstance(block, Paragraph):
            if block.tone == "lead":
                parts.append(_quote(block.text))
            else:
                parts.append(f"*{block.text}*" if block.tone == "muted" else block.text)
        elif isinstance(block, Bullets):
            lines = []
            for number, item in enumerate(block.items, 1):
                marker = f"{number}." if block.numbered else "-"
                first, *rest = item.split("\n")
                lines.append(f"{marker} {first}" + "".join(f"  \n{' ' * (len(marker) + 1)}{r}" for r in rest))
            parts.append("\n".join(lines))
        elif isinstance(block, Table):
            lines = [
                "| " + " | ".join(_cell(h) for h in block.header) + " |",
                "|" + "---|" * len(block.header),
                *("| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows),
            ]
            parts.append("\n".join(lines))
        elif isinstance(block, Figure):
            parts.append(f"![{block.caption}]({block.filename})")
        elif isinstance(block, SourceList):
            parts.append(f"## {block.heading}")
            for source in block.sources:
                entry = [f"**[{source.n}]** {source.title} — `{source.location}`", "", _quote(source.text)]
                if source.parallel_text:
                    entry += [">", _quote(source.parallel_text)]
                parts.append("\n".join(entry))
    return "\n\n".join(parts) + "\n"
