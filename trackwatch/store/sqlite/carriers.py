"""What every daemon on the database knows of each carrier: parked after a 429 until when, and
failing since when (trackwatch.carrier_state keeps a copy per daemon, refreshed each pass)."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from trackwatch.store.records import CarrierRow, CarrierTrouble, parse_ts, ts
from trackwatch.store.sqlite.base import SqliteBase

# Parked until the later of the two: two daemons that met 429s keep the longer wait.
_PARK = (
    "INSERT INTO carrier_state (carrier, parked_until) VALUES (?, ?) ON CONFLICT (carrier)"
    " DO UPDATE SET parked_until=CASE WHEN parked_until IS NULL OR"
    " parked_until < excluded.parked_until THEN excluded.parked_until ELSE parked_until END"
)
_TROUBLE = (
    "INSERT INTO carrier_state (carrier, since, failures, until, message, kind, repeats)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (carrier) DO UPDATE SET since=excluded.since,"
    " failures=excluded.failures, until=excluded.until, message=excluded.message,"
    " kind=excluded.kind, repeats=excluded.repeats"
)


def _row(row: aiosqlite.Row) -> CarrierRow:
    since, until = parse_ts(row["since"]), parse_ts(row["until"])
    trouble = None
    if since is not None and until is not None:
        trouble = CarrierTrouble(since, int(row["failures"]), until, str(row["message"] or ""),
                                 str(row["kind"] or ""), int(row["repeats"]))  # fmt: skip
    return CarrierRow(str(row["carrier"]), parse_ts(row["parked_until"]), trouble)


class SqliteCarriers(SqliteBase):
    async def carrier_states(self) -> dict[str, CarrierRow]:
        rows = await self._all("SELECT * FROM carrier_state")
        return {str(row["carrier"]): _row(row) for row in rows}

    async def park_carrier(self, carrier: str, until: datetime) -> None:
        async with self._tx() as db:
            await db.execute(_PARK, (carrier, ts(until)))

    async def save_trouble(self, carrier: str, trouble: CarrierTrouble | None) -> None:
        """The carrier's trouble as this daemon last saw it; None: it answers again."""
        t = trouble
        async with self._tx() as db:
            await db.execute(_TROUBLE, (carrier, ts(t.since) if t else None, t.failures if t else 0,
                                        ts(t.until) if t else None, t.message if t else None,
                                        t.kind if t else None, t.repeats if t else 0))  # fmt: skip
