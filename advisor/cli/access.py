"""`advisor kb` (knowledge bases) and `advisor users` (who may sign in to the page), registered in `advisor/cli/__init__.py`.

Thin layers over `advisor.knowledge` and `advisor.auth`. A password is read from the terminal (or stdin
with --password-stdin), hashed at once and never printed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from . import shared

if TYPE_CHECKING:
    from ..auth import UserRecord

kb_app = typer.Typer(
    help="Knowledge bases: each its own folder of documents and its own index (HOME/kb/<name>/).",
    no_args_is_help=True,
    add_completion=False,
)
users_app = typer.Typer(
    help="Who may sign in to the web page: a users file of scrypt-hashed passwords (ADVISOR_USERS_FILE).",
    no_args_is_help=True,
    add_completion=False,
)


@kb_app.command("list")
def kb_list() -> None:
    """Every knowledge base: the bundled corpus first, then those made with `advisor kb create`."""
    from ..knowledge import list_kbs

    for kb in list_kbs(shared.settings(kb="")):
        name = kb.name or "(default)"
        typer.echo(f"{name}\t{kb.title or 'the bundled corpus'}\t{kb.corpus_dir}")


@kb_app.command("create")
def kb_create(
    name: Annotated[
        str, typer.Argument(help="Its name: 1–40 of a-z 0-9 _ - (used in --kb and the API model).")
    ],
    title: Annotated[str, typer.Option(help="The title the page shows.")] = "",
) -> None:
    """Make a knowledge base; then put documents in its corpus folder, or `advisor ingest --kb NAME PATH`."""
    from ..knowledge import KnowledgeBaseError, create_kb

    try:
        kb = create_kb(shared.settings(kb=""), name, title)
    except KnowledgeBaseError as exc:
        shared.fail(str(exc))
        return
    typer.echo(
        f"knowledge base {kb.name!r}: put its documents in {kb.corpus_dir}, then `advisor ingest --kb {kb.name}`"
    )


def _users_file(file: Path | None) -> Path:
    settings = shared.settings(kb="")
    return (file or settings.users_file or settings.home / "users.json").expanduser().resolve()


FileOption = Annotated[
    Path | None,
    typer.Option("--file", help="The users file (default: ADVISOR_USERS_FILE, else HOME/users.json)."),
]


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    admin: Annotated[bool, typer.Option("--admin", help="May remove anyone's uploads.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    file: FileOption = None,
) -> None:
    """Add a user (or set a new password); the page asks for sign-in once ADVISOR_USERS_FILE names the file."""
    from ..auth import AuthError, UserRecord, check_name, hash_password, read_users, write_users

    path = _users_file(file)
    try:
        check_name(name)
        users = read_users(path)
    except AuthError as exc:
        shared.fail(str(exc))
        return
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        shared.fail("a password needs at least 8 characters")
    users[name] = UserRecord(hash_password(password), admin)
    write_users(path, users)
    typer.echo(
        f"{name} saved in {path}"
        + ("" if shared.settings(kb="").users_file else f" (set ADVISOR_USERS_FILE={path})")
    )


def _read_users(path: Path) -> dict[str, UserRecord]:
    """The users file's records, or exit 2 with the reason it cannot be read."""
    from ..auth import AuthError, read_users

    try:
        return read_users(path)
    except AuthError as exc:
        shared.fail(str(exc))
        raise  # unreachable: fail exits


@users_app.command("remove")
def users_remove(
    name: Annotated[str, typer.Argument(help="The user to remove.")], file: FileOption = None
) -> None:
    """Remove a user from the users file."""
    from ..auth import write_users

    path = _users_file(file)
    users = _read_users(path)
    if users.pop(name, None) is None:
        shared.fail(f"no user {name!r} in {path}")
    write_users(path, users)
    typer.echo(f"{name} removed from {path}")


@users_app.command("list")
def users_list(file: FileOption = None) -> None:
    """The users who may sign in (names and admin flags; never a hash)."""
    users = _read_users(_users_file(file))
    for name, user in sorted(users.items()):
        typer.echo(f"{name}\t{'admin' if user.admin else ''}")
