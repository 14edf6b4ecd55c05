"""What every daemon on the database knows of each carrier (as on SQLite: see its carriers
module)."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from trackwatch.store.postgres.base import PostgresBase
from trackwatch.store.records import CarrierRow, CarrierTrouble

# Parked until the later of the two: two daemons that met 429s keep the longer wait.
_PARK = (
    "INSERT INTO carrier_state (carrier, parked_until) VALUES ($1, $2) ON CONFLICT (carrier)"
    " DO UPDATE SET parked_until=GREATEST(carrier_state.parked_until, excluded.parked_until)"
)
_TROUBLE = (
    "INSERT INTO carrier_state (carrier, since, failures, until, message, kind, repeats)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (carrier) DO UPDATE SET"
    " since=excluded.since, failures=excluded.failures, until=excluded.until,"
    " message=excluded.message, kind=excluded.kind, repeats=excluded.repeats"
)


def _row(row: asyncpg.Record) -> CarrierRow:
    since, until = row["since"], row["until"]
    trouble = None
    if since is not None and until is not None:
        trouble = CarrierTrouble(since, int(row["failures"]), until, str(row["message"] or ""),
                                 str(row["kind"] or ""), int(row["repeats"]))  # fmt: skip
    return CarrierRow(str(row["carrier"]), row["parked_until"], trouble)


class PostgresCarriers(PostgresBase):
    async def carrier_states(self) -> dict[str, CarrierRow]:
        rows = await self._all("SELECT * FROM carrier_state")
        return {str(row["carrier"]): _row(row) for row in rows}

    async def park_carrier(self, carrier: str, until: datetime) -> None:
        await self._pool.execute(_PARK, carrier, until)

    async def save_trouble(self, carrier: str, trouble: CarrierTrouble | None) -> None:
        """The carrier's trouble as this daemon last saw it; None: it answers again."""
        t = trouble
        await self._pool.execute(
            _TROUBLE, carrier, t.since if t else None, t.failures if t else 0,
            t.until if t else None, t.message if t else None, t.kind if t else None,
            t.repeats if t else 0,
        )  # fmt: skip
