"""`python -m trackwatch.cli`, as the `trackwatch` script."""

import sys

from trackwatch.cli.app import entry

sys.exit(entry())
