"""Golden files: every shared carrier payload, read the way the client reads it, against a
checked-in expected result that a person read and agreed with (see each NOTES.md).

Each carrier's `tests/fixtures/<carrier>/manifest.json` says, per payload, which reader it
goes through ("track" or "token"), with the HTTP status it arrives with and the queries
(number and ship date) the call was for. `python -m tests.golden <carrier>` writes expected
files that do not exist yet, for a person to read before checking them in.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from carriers.base import HttpResponse, Query
from carriers.dhl import client as dhl
from carriers.fedex import client as fedex
from carriers.ups import client as ups
from carriers.usps import client as usps
from trackwatch.errors import CarrierError

FIXTURES = Path(__file__).parent / "fixtures"
Reader = Callable[[HttpResponse, Sequence[Query]], Any]


def _readers() -> dict[str, dict[str, Reader]]:

    def results(found: dict[str, Any]) -> dict[str, Any]:
        return {number: json.loads(r.model_dump_json()) for number, r in found.items()}

    return {
        "ups": {"track": lambda r, q: results({q[0].number: ups.read_track(r, q[0])})},
        "usps": {
            "track": lambda r, q: results(usps.read_track(r, q)),
            "token": lambda r, q: {"expires_in": usps.read_token(r)[1]},
        },
        "fedex": {"track": lambda r, q: results(fedex.read_track(r, q))},
        "dhl": {"track": lambda r, q: results({q[0].number: dhl.read_track(r, q[0])})},
    }


def manifest(carrier: str) -> dict[str, dict[str, Any]]:
    loaded: dict[str, dict[str, Any]] = json.loads(
        (FIXTURES / carrier / "manifest.json").read_text()
    )
    return loaded


def actual(carrier: str, name: str) -> Any:
    entry = manifest(carrier)[name]
    response = HttpResponse(entry.get("status", 200), {}, (FIXTURES / carrier / name).read_bytes())
    queries = [
        Query(q["number"], date.fromisoformat(q["shipped_on"]) if q.get("shipped_on") else None)
        for q in entry.get("queries", [])
    ]
    try:
        return _readers()[carrier][entry["read"]](response, queries)
    except CarrierError as exc:
        return {"error": type(exc).__name__, "message": exc.message}


def expected_path(carrier: str, name: str) -> Path:
    return FIXTURES / carrier / "expected" / (Path(name).stem + ".json")


def write_missing(carrier: str) -> None:
    for name in manifest(carrier):
        path = expected_path(carrier, name)
        if not path.exists():
            path.write_text(json.dumps(actual(carrier, name), indent=2, sort_keys=True) + "\n")
            print(f"wrote {path}; read it against the payload before checking it in")


if __name__ == "__main__":
    for carrier in sys.argv[1:]:
        write_missing(carrier)
