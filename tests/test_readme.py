"""The README's two commands are the ones CI and newcomers run: keep them honest."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv[^\n]*)\n```", (ROOT / "README.md").read_text())


def test_readme_has_exactly_two_fresh_clone_commands() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("trackwatch demo")
    assert "pytest" in tests and "mypy" in tests and "ruff check" in tests


def test_ci_runs_the_readme_test_command() -> None:
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert readme_commands()[1] in ci_lines
