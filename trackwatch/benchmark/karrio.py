"""karrio's tracking parsers, each fed an answer's bytes the way its proxy hands them over
(its deserializer, then parse_tracking_response). An optional extra (`bench`): without it,
there is nothing here and the benchmark says so."""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
from collections.abc import Callable
from typing import Any

Parse = Callable[[bytes], object]


def _settings(carrier: str) -> Any:
    module = importlib.import_module(f"karrio.mappers.{carrier}.settings")
    if carrier == "dhl_universal":
        return module.Settings(consumer_key="k", consumer_secret="s")
    if carrier == "fedex":
        return module.Settings(api_key="k", secret_key="s")
    return module.Settings(client_id="bench", client_secret="s")


def _items(body: bytes) -> list[tuple[str, Any]]:
    """USPS v3r2 answers an array of v3 tracking objects: karrio's USPS proxy gets one such
    object per number (its v3 GET), so it is handed the same objects, numbered."""
    return [(str(item.get("trackingNumber", "")), item) for item in json.loads(body)]


def karrio_parsers() -> dict[str, Parse]:
    """Our carrier name -> karrio's parse of one answer; empty when karrio is not installed."""
    try:
        lib = importlib.import_module("karrio.lib")
    except ImportError:
        return {}
    # jstruct warns of every field karrio's schema does not know (logging's last-resort
    # handler prints each to stderr): quiet, so that karrio's figure is its parsing alone.
    logging.getLogger("jstruct").setLevel(logging.ERROR)
    _offline()
    # Our carrier -> (karrio connector, its proxy's deserializer of one answer)
    wiring: dict[str, tuple[str, Callable[[bytes], Any]]] = {
        "usps": ("usps", _items),
        "ups": ("ups", lambda body: [("", json.loads(body))]),
        "fedex": ("fedex", json.loads),
        "dhl": ("dhl_universal", lambda body: [json.loads(body)]),
    }
    found: dict[str, Parse] = {}
    for ours, (theirs, deserialize) in wiring.items():
        try:
            tracking = importlib.import_module(f"karrio.providers.{theirs}.tracking")
            settings = _settings(theirs)
        except ImportError:
            continue
        found[ours] = _parser(lib, tracking.parse_tracking_response, settings, deserialize)
    return found


def _offline() -> None:
    """karrio's FedEx parser downloads a proof-of-delivery image for every delivered parcel
    while it parses (an HTTP call to FedEx's API, and 5 s of waiting here where there is no
    such host): that download is stubbed out (no image), so what is measured is its parsing.
    Its log (loguru) is quieted as jstruct's is."""
    with contextlib.suppress(ImportError):
        fedex: Any = importlib.import_module("karrio.providers.fedex.utils")
        fedex.get_proof_of_delivery = lambda *args, **kwargs: None
    with contextlib.suppress(ImportError):
        importlib.import_module("loguru").logger.disable("karrio")


def _parser(lib: Any, parse: Callable[..., Any], settings: Any,
            deserialize: Callable[[bytes], Any]) -> Parse:  # fmt: skip
    def run(body: bytes) -> object:
        return parse(lib.Deserializable(body, deserialize), settings)

    return run
