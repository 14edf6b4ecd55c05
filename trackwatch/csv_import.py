"""`trackwatch import FILE`: kept for the callers of this module; the import itself is
trackwatch.importing (formats, values, mapping files, streaming)."""

from __future__ import annotations

from trackwatch.importing.presets import TRACKWATCH
from trackwatch.importing.run import BATCH, ImportOptions, ImportReport, import_csv

# The columns of trackwatch's own format.
KNOWN = frozenset(TRACKWATCH.columns)

__all__ = ["BATCH", "KNOWN", "ImportOptions", "ImportReport", "import_csv"]
