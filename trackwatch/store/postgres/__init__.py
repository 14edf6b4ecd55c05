"""PostgreSQL behind asyncpg: a small pool, migrations under an advisory lock, and every write
of a loop pass in one transaction. Each repository (a use case of trackwatch.store.contract)
keeps its SQL in its own module, as on SQLite; the store is all of them over one pool.
"""

from trackwatch.store.contract import Store
from trackwatch.store.postgres.alerts import PostgresAlerts
from trackwatch.store.postgres.carriers import PostgresCarriers
from trackwatch.store.postgres.console import PostgresConsole
from trackwatch.store.postgres.due import PostgresDue
from trackwatch.store.postgres.judging import PostgresJudging
from trackwatch.store.postgres.lanes import PostgresLanes
from trackwatch.store.postgres.ledger import PostgresLedger
from trackwatch.store.postgres.notices import PostgresNotices
from trackwatch.store.postgres.ops import PostgresOps
from trackwatch.store.postgres.orders import PostgresOrders
from trackwatch.store.postgres.polls import PostgresPolls
from trackwatch.store.postgres.push import PostgresPush
from trackwatch.store.postgres.retention import PostgresRetention
from trackwatch.store.postgres.shipments import PostgresShipments
from trackwatch.store.postgres.tables import PostgresTables


class PostgresStore(
    PostgresShipments,
    PostgresPolls,
    PostgresJudging,
    PostgresAlerts,
    PostgresNotices,
    PostgresOrders,
    PostgresLedger,
    PostgresCarriers,
    PostgresOps,
    PostgresRetention,
    PostgresConsole,
    PostgresLanes,
    PostgresTables,
    PostgresPush,
    PostgresDue,
):
    """Every repository over one asyncpg pool (`PostgresStore.open(url)`)."""


_: type[Store] = PostgresStore  # mypy checks the whole contract here

__all__ = ["PostgresStore"]
