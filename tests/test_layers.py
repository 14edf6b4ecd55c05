"""What the operator's commands load (issue 19, item 7): `trackwatch --help` and the
database commands never import the demo's sandbox, the simulator, the chaos suite, aiosmtpd
(an optional extra) or Apprise; only the tools import those, when they run."""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackwatch.cli import build_parser
from trackwatch.cli.app import handler_of

ROOT = Path(__file__).resolve().parent.parent
TOOLS_ONLY = ("trackwatch.sandbox", "trackwatch.sim", "trackwatch.chaos", "aiosmtpd", "hypothesis")
NEVER_FOR_OPERATORS = (*TOOLS_ONLY, "apprise")
# The packages and modules that may import the tools' machinery at module level.
TOOL_MODULES = (
    "trackwatch/sandbox/",
    "trackwatch/sim/",
    "trackwatch/chaos/",
    "trackwatch/bench.py",
    "trackwatch/benchmark/",
)

PROBE = """
import json, sys
from trackwatch.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def loaded(*args: str) -> list[str]:
    """The modules `trackwatch ARGS` has imported by its end (a fresh interpreter)."""
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=120, check=True)  # fmt: skip
    modules: list[str] = json.loads(done.stderr.strip().splitlines()[-1])
    return [m for m in modules if m.startswith(NEVER_FOR_OPERATORS)]


def test_help_and_the_database_commands_load_no_tool(tmp_path: Path) -> None:
    config = tmp_path / "trackwatch.toml"
    config.write_text(f'[daemon]\ndatabase = "{tmp_path / "tw.db"}"\n[stores.s]\nname = "S"\n')
    assert loaded("--help") == []
    add = ["add", "--config", str(config), "--store", "s", "--tracking-number",
           "1Z5R89390357567127", "--order-id", "1", "--shipped-at", "2026-11-23"]  # fmt: skip
    assert loaded(*add) == []
    for command in (["list"], ["show", "1"], ["alerts"], ["notices"]):
        assert loaded(*command, "--config", str(config)) == []


def test_importing_the_cli_loads_no_tool() -> None:
    code = "import sys, trackwatch.cli; print(sorted(sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    modules = ast.literal_eval(done.stdout)
    assert [m for m in modules if m.startswith((*NEVER_FOR_OPERATORS, "pydantic"))] == []


def _sources() -> Iterator[Path]:
    for top in ("trackwatch", "carriers", "rules"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if not str(path.relative_to(ROOT)).startswith(TOOL_MODULES):
                yield path


def _module_level_imports(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, module) of every import run when the module loads: at its top level, or in a
    class body or an `if`/`try` there, not inside a function."""
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
        elif not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            pending.extend(ast.iter_child_nodes(node))


def test_no_module_outside_the_tools_imports_them_at_load() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in _sources()
        for line, module in _module_level_imports(ast.parse(path.read_text()))
        if module.startswith(TOOLS_ONLY)
    ]
    assert found == []


def test_the_layer_walk_sees_an_import_at_load_and_not_one_in_a_function() -> None:
    tree = ast.parse("import os\nif True:\n    from trackwatch.sim import x\n"
                     "def f():\n    import aiosmtpd\nclass C:\n    import hypothesis\n")  # fmt: skip
    assert sorted(_module_level_imports(tree)) == [(1, "os"), (3, "trackwatch.sim"),
                                                   (7, "hypothesis")]  # fmt: skip


def _commands() -> dict[str, argparse.ArgumentParser]:
    (sub,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize("command", sorted(_commands()))
def test_every_command_names_a_handler_that_exists(command: str) -> None:
    """Handlers are named by text, so that building the parser imports none of them."""
    named = _commands()[command].get_default("handler")
    assert callable(handler_of(argparse.Namespace(handler=named)))
