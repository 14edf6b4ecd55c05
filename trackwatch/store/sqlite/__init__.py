"""SQLite behind aiosqlite: WAL, migrations, and every write of a loop pass in one transaction.

The loops share one connection, so an asyncio lock serialises transactions; aiosqlite's
thread hop costs about 0.07 ms a statement, so writes are batched with executemany. Each
repository (a use case of trackwatch.store.contract) keeps its SQL in its own module; the
store is all of them over one connection.
"""

from trackwatch.store.sqlite.alerts import SqliteAlerts
from trackwatch.store.sqlite.carriers import SqliteCarriers
from trackwatch.store.sqlite.console import SqliteConsole
from trackwatch.store.sqlite.due import SqliteDue
from trackwatch.store.sqlite.judging import SqliteJudging
from trackwatch.store.sqlite.lanes import SqliteLanes
from trackwatch.store.sqlite.ledger import SqliteLedger
from trackwatch.store.sqlite.notices import SqliteNotices
from trackwatch.store.sqlite.ops import SqliteOps
from trackwatch.store.sqlite.orders import SqliteOrders
from trackwatch.store.sqlite.polls import SqlitePolls
from trackwatch.store.sqlite.push import SqlitePush
from trackwatch.store.sqlite.retention import SqliteRetention
from trackwatch.store.sqlite.rows import DuplicateShipment, UnreadableShipment
from trackwatch.store.sqlite.shipments import SqliteShipments
from trackwatch.store.sqlite.tables import SqliteTables


class SqliteStore(
    SqliteShipments,
    SqlitePolls,
    SqliteJudging,
    SqliteAlerts,
    SqliteNotices,
    SqliteOrders,
    SqliteLedger,
    SqliteCarriers,
    SqliteOps,
    SqliteRetention,
    SqliteConsole,
    SqliteLanes,
    SqliteTables,
    SqlitePush,
    SqliteDue,
):
    """Every repository over one SQLite connection (`SqliteStore.open(path)`)."""


__all__ = ["DuplicateShipment", "SqliteStore", "UnreadableShipment"]
