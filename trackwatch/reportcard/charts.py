"""The report card's charts as SVG, drawn on the server by pygal (imported when a chart is
drawn, not by `trackwatch --help` nor the database commands): a page with no JavaScript
shows them inline. pygal's tooltips script is fetched from its authors' site by default;
`js=[]` leaves it out, so nothing is fetched from outside and the charts stay static. pygal
still writes an inline script of its config (for the tooltips); the page's Content-Security-Policy
blocks it, and the browser logs each block as an error, so it is taken out."""

from __future__ import annotations

import re
from typing import Any

from trackwatch.reportcard.figures import Card, Figures, Rate

_SIZE = {"width": 720, "height": 360}
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


def _percent(rate: Rate) -> float | None:
    return None if rate.value is None else round(100 * rate.value, 1)


def _chart(kind: str, title: str, **config: Any) -> Any:
    import pygal  # noqa: PLC0415 (lazy: the CLI stays light)

    chart = getattr(pygal, kind)(
        js=[], disable_xml_declaration=True, title=title, legend_at_bottom=True,
        print_values=False, **_SIZE, **config,
    )  # fmt: skip
    return chart


def _svg(chart: Any) -> str:
    return _SCRIPT.sub("", str(chart.render(is_unicode=True)))


def _carriers(figures: list[Figures]) -> list[str]:
    return [f.carrier.upper() for f in figures]


def on_time_chart(card: Card) -> str:
    """Per carrier, the share delivered by its first ETA and by the store's promise."""
    chart = _chart("Bar", "On time, % of parcels delivered", range=(0, 100))
    chart.x_labels = _carriers(card.carriers)
    chart.add("by the carrier's first ETA", [_percent(f.on_time_eta) for f in card.carriers])
    chart.add("by the store's promise", [_percent(f.on_time_promise) for f in card.carriers])
    return _svg(chart)


def transit_chart(card: Card) -> str:
    """Per lane, the share of its delivered parcels by whole days in transit."""
    days = sorted({day for spread in card.transit_days.values() for day in spread})
    chart = _chart("Bar", "Days in transit, % of a lane's deliveries")
    chart.x_labels = [str(day) for day in days]
    for (carrier, origin, destination), spread in card.transit_days.items():
        total = sum(spread.values())
        if total:
            shares = [round(100 * spread.get(day, 0) / total, 1) for day in days]
            chart.add(f"{carrier.upper()} {origin} → {destination}", shares)
    return _svg(chart)


def rates_chart(card: Card) -> str:
    """Per carrier, the share of parcels that stalled, met an exception or were lost."""
    chart = _chart("Bar", "Trouble, % of parcels shipped")
    chart.x_labels = _carriers(card.carriers)
    chart.add("stalled", [_percent(f.stalled) for f in card.carriers])
    chart.add("exception", [_percent(f.exceptions) for f in card.carriers])
    chart.add("lost", [_percent(f.lost) for f in card.carriers])
    return _svg(chart)


def charts(card: Card) -> dict[str, str]:
    """Every chart of the card, by name."""
    return {"on_time": on_time_chart(card), "transit": transit_chart(card),
            "rates": rates_chart(card)}  # fmt: skip
