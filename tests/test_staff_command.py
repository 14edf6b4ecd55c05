"""`trackwatch staff add|remove|passwd` (issue 20, item 4): passwords from a prompt or stdin,
never argv; hashed with argon2; a store that is not configured, a taken login, a short
password refused by name."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

from tests.test_cli_operator import config, run  # noqa: F401 - the fixture
from trackwatch.staff import verify_password
from trackwatch.store import open_store
from trackwatch.store.records import StaffAccount

PASSWORD = "a long enough password"


def account(path: Path, login: str) -> StaffAccount | None:
    async def read() -> StaffAccount | None:
        store = await open_store(str(path.parent / "tw.db"))
        try:
            return await store.staff_account(login)
        finally:
            await store.close()

    return asyncio.run(read())


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_add_passwd_remove(
    config: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert (
        run("staff", "add", "ann", "--store", "shop", "--password-stdin", "--config", str(config))
        == 0
    )
    ann = account(config, "ann")
    assert ann is not None and ann.store == "shop" and ann.role == "staff"
    assert ann.password_hash.startswith("$argon2id$") and verify_password(
        ann.password_hash, PASSWORD
    )
    answers = iter(["another long password", "another long password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run("staff", "passwd", "ann", "--config", str(config)) == 0
    ann = account(config, "ann")
    assert ann is not None and ann.generation == 1
    assert verify_password(ann.password_hash, "another long password")
    stdin(monkeypatch, PASSWORD + "\n")
    assert (
        run("staff", "add", "root", "--operator", "--password-stdin", "--config", str(config)) == 0
    )
    root = account(config, "root")
    assert root is not None and root.stores is None
    assert run("staff", "remove", "ann", "--config", str(config)) == 0
    assert account(config, "ann") is None
    assert PASSWORD not in capsys.readouterr().out


def test_bad_input_is_refused_by_name(
    config: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stdin(monkeypatch, "short\n")
    assert (
        run("staff", "add", "ann", "--store", "shop", "--password-stdin", "--config", str(config))
        != 0
    )
    assert "password" in capsys.readouterr().err
    stdin(monkeypatch, PASSWORD + "\n")
    assert (
        run(
            "staff", "add", "ann", "--store", "nowhere", "--password-stdin", "--config", str(config)
        )
        != 0
    )
    assert "store" in capsys.readouterr().err
    answers = iter([PASSWORD, PASSWORD + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    assert run("staff", "add", "ann", "--store", "shop", "--config", str(config)) != 0
    assert "differ" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # there is no --password flag to put it in argv
        run(
            "staff",
            "add",
            "ann",
            "--store",
            "shop",
            "--password",
            PASSWORD,
            "--config",
            str(config),
        )
