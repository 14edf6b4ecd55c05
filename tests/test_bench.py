"""`trackwatch bench --quick` prints every section of the benchmark (issue 21): parsers
beside karrio's and json.loads, end to end beside raw aiohttp, pass cost, daemon memory and
import. Its figures are not asserted: 2 shared cores time nothing reliably."""

from __future__ import annotations

from trackwatch.benchmark.command import run_bench


def test_the_quick_bench_prints_every_section() -> None:
    lines: list[str] = []
    assert run_bench(quick=True, out=lines.append) == 0
    text = "\n".join(lines)
    for section in ("parsers: answers per CPU-second", "end to end: responses per CPU-second",
                    "pass cost: ms of one scheduler pass", "daemon RSS:", "import: "):  # fmt: skip
        assert section in text, f"no {section!r} section in:\n{text}"
    for carrier in ("usps", "ups", "fedex", "dhl"):
        assert any(line.split()[:1] == [carrier] for line in lines), carrier
    for reference in ("raw aiohttp GET", "daemon, DHL", "daemon, four-carrier mix"):
        assert reference in text
    assert "karrio" in text  # its figures, or why there are none


def test_the_end_to_end_section_runs_alone() -> None:
    lines: list[str] = []
    assert run_bench(quick=True, out=lines.append, e2e_only=True) == 0
    text = "\n".join(lines)
    for reference in ("raw aiohttp GET", "daemon, DHL", "daemon, four-carrier mix", "target: "):
        assert reference in text
    assert "parsers:" not in text and "pass cost" not in text and "daemon RSS" not in text
