"""`trackwatch shopify …`: the store's Shopify Admin API (only argparse here; the handler is
imported when the command runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from trackwatch.cli.parsers import CONFIG_HELP, SubParsers


def add_shopify(sub: SubParsers) -> None:
    shopify = sub.add_parser("shopify", help="a store's Shopify Admin API: bring in the "
                             "fulfillments it already has (README: From Shopify)")  # fmt: skip
    shopify.set_defaults(handler="trackwatch.shopify.command:run")
    actions = shopify.add_subparsers(dest="shopify_command", required=True)
    backfill = actions.add_parser("backfill", help="watch the store's fulfillments still in "
                                  "transit, read from the Admin API; running it again "
                                  "changes nothing")  # fmt: skip
    backfill.add_argument("--store", required=True, help="the store (its [shopify] section "
                          "names the shop and its access token)")  # fmt: skip
    backfill.add_argument("--since", help="fulfillments created since this date, YYYY-MM-DD "
                          "or an ISO date-time (default: 60 days ago)")  # fmt: skip
    backfill.add_argument("--json", action="store_true", help="one JSON document of counts")
    backfill.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=CONFIG_HELP)
