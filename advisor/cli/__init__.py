"""The `advisor` command: a thin layer over advisor.core; no retrieval or answering logic lives here.

One module per group of commands; `shared.py` holds what they share (settings, the core, progress, failures).
"""

from __future__ import annotations

import typer

from . import answers, corpus, evaluate, serve
from .access import kb_app, users_app
from .assess import assess_app
from .search import search
from .shared import offline_environment

app = typer.Typer(
    help=(
        "advisor — a bilingual (中文/English) advisor on industrial strategy: clusters, agglomeration, ecosystems.\n\n"
        "Answers come from the documents in corpus/ (and any you add), each claim with a numbered citation; "
        "when the documents do not cover a question, advisor says so. Works offline with the bundled models."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)

app.command()(corpus.setup)
app.command()(corpus.ingest)
app.command()(corpus.sources)
app.command()(answers.ask)
app.command()(answers.chat)
app.command("eval")(evaluate.eval_)
app.command()(evaluate.bench)
app.command()(serve.serve)
app.command()(serve.feedback)
app.command()(search)
app.add_typer(assess_app, name="assess")
app.add_typer(kb_app, name="kb")
app.add_typer(users_app, name="users")


def main() -> None:
    """Console-script entry point."""
    offline_environment()
    app()


if __name__ == "__main__":
    main()
