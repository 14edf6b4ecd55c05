"""The shape every carrier's code table shares: code → (status, exception kind, delayed)."""

from __future__ import annotations

from trackwatch.model import ExceptionKind, Status

Mapping3 = tuple[Status, ExceptionKind | None, bool]  # status, exception kind, delayed


def codes(
    listed: str, status: Status, kind: ExceptionKind | None = None, delayed: bool = False
) -> dict[str, Mapping3]:
    """Several space-separated codes that all mean the same thing."""
    return {code: (status, kind, delayed) for code in listed.split()}
