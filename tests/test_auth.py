"""Who may do what: scrypt password hashes, the users file, a trusted proxy's header, API keys, upload owners."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from advisor.auth import (
    Access,
    AuthError,
    LoginThrottle,
    UserRecord,
    hash_password,
    owner_key,
    read_users,
    verify_password,
    write_users,
)
from advisor.config import Settings


def test_a_password_is_stored_as_a_salted_scrypt_hash() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert stored != hash_password("correct horse")  # salted
    assert verify_password("correct horse", stored)
    assert not verify_password("wrong horse", stored)
    assert not verify_password("correct horse", "plain:correct horse") and not verify_password(
        "x", "scrypt$bad"
    )


def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "users.json"
    write_users(
        path,
        {
            "alice": UserRecord(hash_password("alice-pass")),
            "root": UserRecord(hash_password("root-pass"), True),
        },
    )
    return path


def test_the_users_file_is_private_and_holds_no_password(tmp_path: Path) -> None:
    path = users_file(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "alice-pass" not in path.read_text() and set(read_users(path)) == {"alice", "root"}
    path.write_text(json.dumps({"eve": {"password": "plain"}}))
    with pytest.raises(AuthError, match="no scrypt password hash"):
        read_users(path)


def test_without_login_nothing_changes() -> None:
    access = Access(Settings())
    assert access.mode == "open" and access.api_open
    assert access.may_remove(None, "alice") and access.may_remove(None, None)


def test_password_login_and_who_may_remove_an_upload(tmp_path: Path) -> None:
    access = Access(Settings(users_file=users_file(tmp_path)))
    assert access.mode == "password" and not access.api_open  # the API is closed until it has keys
    assert access.check_password("alice", "alice-pass")
    assert not access.check_password("alice", "root-pass") and not access.check_password(
        "mallory", "alice-pass"
    )
    assert access.may_remove("alice", "alice") and access.may_remove("root", "alice")
    assert not access.may_remove("bob", "alice") and not access.may_remove(None, "alice")
    assert not access.may_remove("bob", None) and access.may_remove(
        "root", None
    )  # an upload from before login


def test_too_many_wrong_passwords_lock_that_name_for_a_while(tmp_path: Path) -> None:
    access = Access(Settings(users_file=users_file(tmp_path)))
    now = [0.0]
    access.throttle = LoginThrottle(failures=3, window_s=60.0, clock=lambda: now[0])
    for _ in range(3):
        assert not access.check_password("alice", "guess")
    assert not access.check_password("alice", "alice-pass")  # locked: even the right password waits
    assert access.check_password("root", "root-pass")  # other names go on
    assert access.throttle.wait_s("alice") == 60.0
    now[0] = 61.0
    assert access.check_password("alice", "alice-pass")  # the window passed
    assert access.throttle.wait_s("alice") == 0.0 and "alice" not in access.throttle._failed


def test_the_throttle_forgets_names_rather_than_grow_without_bound() -> None:
    throttle = LoginThrottle(failures=2, window_s=10.0, clock=lambda: 0.0, names=100)
    for i in range(1_000):
        throttle.failed(f"user{i}")
    assert len(throttle._failed) <= 100 and throttle.wait_s("user999") == 0.0  # one failure each


def test_a_header_is_believed_only_from_the_trusted_proxy() -> None:
    access = Access(Settings(auth_header="X-Forwarded-User", admins="carol"))
    assert access.mode == "header"
    headers = {"x-forwarded-user": "dave"}
    assert access.user_from_request("127.0.0.1", headers) == "dave"
    assert access.user_from_request("203.0.113.9", headers) is None  # anyone else could send it
    assert access.user_from_request("127.0.0.1", {"x-forwarded-user": "../../x"}) is None
    assert access.is_admin("carol") and not access.is_admin("dave")


def test_api_keys_are_bearer_tokens_compared_whole() -> None:
    access = Access(Settings(api_keys=SecretStr("k-one, k-two")))
    assert not access.api_open and access.has_keys
    assert access.api_key_ok("Bearer k-two") and access.api_key_ok("bearer k-one")
    for wrong in (None, "", "Bearer", "Bearer k-on", "Basic k-one", "k-one", "Bearer k-one,k-two"):
        assert not access.api_key_ok(wrong)


def test_owners_of_conversations() -> None:
    assert owner_key("alice", "b" * 32) == "user:alice"
    assert owner_key(None, "b" * 32) == "browser:" + "b" * 32 and owner_key(None, None) is None


def test_advisor_users_add_list_remove(tmp_path: Path) -> None:
    from advisor import cli

    path = tmp_path / "users.json"
    runner = CliRunner()
    out = runner.invoke(
        cli.app,
        ["users", "add", "alice", "--admin", "--password-stdin", "--file", str(path)],
        input="s3cret-pass\n",
    )
    assert out.exit_code == 0, out.output
    assert "s3cret-pass" not in out.output and verify_password(
        "s3cret-pass", read_users(path)["alice"].password
    )
    short = runner.invoke(
        cli.app, ["users", "add", "bob", "--password-stdin", "--file", str(path)], input="short\n"
    )
    assert short.exit_code == 2 and "bob" not in read_users(path)
    assert runner.invoke(cli.app, ["users", "list", "--file", str(path)]).stdout.strip() == "alice\tadmin"
    assert runner.invoke(cli.app, ["users", "remove", "alice", "--file", str(path)]).exit_code == 0
    assert read_users(path) == {}
