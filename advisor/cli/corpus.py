"""`advisor setup`, `advisor ingest`, `advisor sources`: the index and what is in it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    pass

from . import shared
from .shared import KbOption


def setup() -> None:
    """Prepare a fresh machine: rebuild and verify the bundled embedding model, then build the index."""
    settings = shared.settings()
    advisor = shared.open_advisor(settings)
    typer.echo(f"advisor home: {settings.home}", err=True)
    if not settings.embedding_model:
        from ..embed.e5 import ensure_e5_model

        typer.echo(
            "checking the bundled multilingual-e5-small model (first run rebuilds it: ~1 min)…", err=True
        )
        path = ensure_e5_model(settings.model_cache)
        typer.echo(f"model ready: {path}", err=True)
    with shared.progress_bars() as progress:
        report = advisor.ingest(progress=progress)
    shared.print_failures(report.failed)
    typer.echo(
        f"index ready: {report.documents} documents, {report.chunks} chunks, {report.embedded} embedded now."
    )


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Extra .md, .txt, .pdf, .docx or .html files, or folders of them, to index (remembered for later runs)."
        ),
    ] = None,
    kb: KbOption = None,
) -> None:
    """Build or update the index from corpus/ plus extra files. Unchanged text is never embedded again.

    A file named here that cannot be read is an error (exit 2), with the same limits and messages as an upload
    on the web page; inside a named folder, such a file is skipped and reported.
    """
    from ..ingest.convert import Limits
    from ..ingest.load import LoadError, load_file

    settings = shared.settings(kb=kb)
    named = [p for p in paths or [] if p.is_file()]
    for path in named:
        try:
            load_file(path, limits=Limits.for_upload_mb(settings.max_upload_mb))
        except (LoadError, OSError) as exc:
            shared.fail(str(exc) if isinstance(exc, LoadError) else f"{path}: {exc.strerror or exc}")
    advisor = shared.open_advisor(settings)
    try:
        with shared.progress_bars() as progress:
            report = advisor.ingest(paths or [], progress=progress)
    except FileNotFoundError as exc:
        shared.fail(f"{exc}. Check the path and try again.")
        return
    shared.print_failures(report.failed)
    refused = [line for line in report.failed for p in named if line.startswith(f"{p.name}:")]
    if refused:
        shared.fail(f"not indexed: {refused[0]}")
    for synced in report.synced:
        typer.echo(
            f"{synced.collection}: {synced.added} added, {synced.updated} updated, "
            f"{synced.skipped} unchanged, {synced.deleted} removed"
        )
    typer.echo(f"{report.documents} documents, {report.chunks} chunks in the index.")


def sources(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    kb: KbOption = None,
) -> None:
    """List the documents in the index: id, title, languages, number of chunks."""
    advisor = shared.open_advisor(shared.settings(kb=kb))
    shared.ensure_index(advisor)
    rows = advisor.sources()
    if as_json:
        typer.echo(json.dumps([r.__dict__ for r in rows], ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Documents in the index")
    for column in ("id", "title", "lang", "chunks", "file", "note"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(r.doc_id, r.title, "/".join(r.languages), str(r.chunks), r.path, r.note)
    Console().print(table)
