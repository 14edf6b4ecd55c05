"""A pure reading of a carrier's raw fields, cached by those fields: the same few places,
codes and phrases recur in every answer, and reading them (clean, split, look up) cost more
than the rest of a scan."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

T = TypeVar("T")


def by_raw_fields(read: Callable[..., T], size: int = 4096) -> Callable[..., T]:
    """`read`, answered from a bounded cache keyed by its arguments as they came. Typed:
    1, 1.0 and True are one dict key but three texts. A field that is a list or an object
    is no key: read as it is."""
    known = lru_cache(maxsize=size, typed=True)(read)

    def cached(*fields: object) -> T:
        try:
            return known(*fields)
        except TypeError:
            return read(*fields)

    return cached
