"""Migration 20: instants that releases before it made from local times in a wrong zone
(every Canadian place in Newfoundland's time, Australian ones in Lord Howe's, ...: see
trackwatch.legacy_zones) re-dated to the zone trackwatch.zones gives, so that the first
poll after the upgrade reads the same scans at the instants already stored: no scan stored
twice, no alert episode begun again, no customer told twice (see .plan for what moves)."""

from trackwatch.store.steps import PythonStep
from trackwatch.store.zonefix import postgres, sqlite

REDATE = PythonStep("re-date local times read in a wrong zone", sqlite.redate, postgres.redate)

__all__ = ["REDATE"]
