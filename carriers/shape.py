"""Reading a carrier's JSON defensively: a field of the wrong type is a MalformedResponse that
names the field, never a TypeError deep in a parser."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trackwatch.errors import MalformedResponse


def obj(carrier: str, value: Any, where: str) -> Mapping[str, Any]:
    """An object; null or absent reads as empty."""
    if type(value) is dict:  # what json.loads makes: no ABC check (parsers call this a lot)
        return value
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedResponse(carrier, f"{where} is not an object")
    return value


def items(carrier: str, value: Any, where: str) -> list[Any]:
    """A list; null or absent reads as empty."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedResponse(carrier, f"{where} is not a list")
    return value


def objects(carrier: str, value: Any, where: str) -> list[Mapping[str, Any]]:
    """A list of objects."""
    listed = items(carrier, value, where)
    if all(type(entry) is dict for entry in listed):  # as json.loads makes them: no names
        return list(listed)
    return [obj(carrier, entry, f"{where}[{i}]") for i, entry in enumerate(listed)]
