"""Which column of a file is which field: the format named (--format, --mapping) or the one
preset whose required columns the header has; an ambiguous or unknown header names the
candidates and what is missing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from trackwatch.errors import InputError
from trackwatch.importing.presets import PRESETS, TRACKWATCH, Preset


@dataclass(frozen=True)
class Plan:
    """A preset applied to one header: each field's column index, and the columns no field
    reads (ignored, with one warning)."""

    preset: Preset
    index: dict[str, int]
    ignored: tuple[str, ...]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _resolve(
    preset: Preset, header: list[str], store_given: bool
) -> tuple[dict[str, int], list[str]]:
    """(field -> column index, the required columns missing, named as the export names them)."""
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        positions.setdefault(_key(name), i)
    index: dict[str, int] = {}
    for field, names in preset.columns.items():
        found = next((positions[_key(n)] for n in names if _key(n) in positions), None)
        if found is not None:
            index[field] = found
    required = preset.required - ({"store"} if store_given else set())
    missing = sorted(preset.columns[f][0] for f in required if f not in index)
    return index, missing


def plan_for(header: list[str] | None, preset: Preset | None, store_given: bool) -> Plan:
    """The plan for `header`: with `preset` (--format, --mapping) or the one that fits."""
    if not header or not any(c.strip() for c in header):
        raise InputError("header", "the file is empty; the first line must name the columns")
    chosen = preset or _detect(header, store_given)
    index, missing = _resolve(chosen, header, store_given)
    if missing:
        raise InputError("header", f"missing column(s) {', '.join(missing)} for the "
                         f"{chosen.name} format")  # fmt: skip
    used = [header[i].strip() for i in index.values()]
    twice = sorted(n for n, count in Counter(_key(h) for h in header).items()
                   if count > 1 and n in {_key(u) for u in used})  # fmt: skip
    if twice:
        raise InputError("header", f"column(s) named twice: {', '.join(map(repr, twice))}")
    ignored = tuple(h.strip() for i, h in enumerate(header)
                    if i not in index.values() and h.strip())  # fmt: skip
    return Plan(chosen, index, ignored)


def _detect(header: list[str], store_given: bool) -> Preset:
    fits = [p for p in PRESETS.values() if not _resolve(p, header, store_given)[1]]
    if len(fits) == 1:
        return fits[0]
    if fits:
        names = " and ".join(p.name for p in fits)
        raise InputError("header", f"fits both the {names} formats: give --format")
    # Nothing fits: name what the closest format lacks (trackwatch's own first on a tie).
    ranked = sorted(PRESETS.values(), key=lambda p: (_share(p, header, store_given),
                                                     p is TRACKWATCH), reverse=True)  # fmt: skip
    closest = ranked[0]
    missing = _resolve(closest, header, store_given)[1]
    others = ", ".join(p.name for p in ranked[1:])
    raise InputError("header", f"missing column(s) {', '.join(missing)} for the {closest.name} "
                     f"format (the closest; also known: {others}); give --format, or --mapping "
                     "FILE naming which column is which")  # fmt: skip


def _share(preset: Preset, header: list[str], store_given: bool) -> float:
    index, missing = _resolve(preset, header, store_given)
    required = len(missing) + sum(1 for f in preset.required if f in index)
    return 1 - len(missing) / required if required else 0.0
