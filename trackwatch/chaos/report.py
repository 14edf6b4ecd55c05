"""A phase's figures and its targets, each met or missed, as text or one JSON object."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: what it asks, what was measured, and whether it holds."""

    name: str
    wanted: str
    measured: Any
    met: bool


@dataclass
class PhaseResult:
    phase: str
    seconds: float = 0.0
    figures: dict[str, Any] = field(default_factory=dict)
    targets: list[Target] = field(default_factory=list)

    def target(self, name: str, wanted: str, measured: Any, met: bool) -> None:
        self.targets.append(Target(name, wanted, measured, met))

    @property
    def passed(self) -> bool:
        return all(t.met for t in self.targets)

    def missed(self) -> list[Target]:
        return [t for t in self.targets if not t.met]

    def as_dict(self) -> dict[str, Any]:
        return {"phase": self.phase, "seconds": round(self.seconds, 1), "passed": self.passed,
                "figures": self.figures,
                "targets": [{"name": t.name, "wanted": t.wanted, "measured": t.measured,
                             "met": t.met} for t in self.targets]}  # fmt: skip


def render(seed: int, results: list[PhaseResult], as_json: bool) -> str:
    passed = all(r.passed for r in results)
    if as_json:
        return json.dumps({"seed": seed, "passed": passed,
                           "phases": [r.as_dict() for r in results]}, indent=2, default=str)  # fmt: skip
    lines = [f"chaos suite, seed {seed}"]
    for result in results:
        lines += ["", f"{result.phase}: {'PASS' if result.passed else 'FAIL'} "
                  f"({result.seconds:.1f} s)"]  # fmt: skip
        for key, value in result.figures.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                lines += [f"  {key}:", *(f"    {_short(v)}" for v in value)]
            else:
                lines.append(f"  {key}: {_short(value)}")
        for t in result.targets:
            lines.append(f"  [{'ok' if t.met else 'MISSED'}] {t.name}: {_short(t.measured)} "
                         f"(target: {t.wanted})")  # fmt: skip
    lines += ["", "targets: " + ("all met" if passed else "; ".join(
        f"{r.phase}: {t.name}" for r in results for t in r.missed()))]  # fmt: skip
    return "\n".join(lines)


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, default=str) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
