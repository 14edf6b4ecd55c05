"""Stopping watching a shipment, by hand (`trackwatch stop`, DELETE on the API) or on the
store's word (a Shopify fulfillment cancelled, or its tracking number replaced).

The store writes the stop in one transaction; what it cannot do is draft, so the staff
notices of each open alert's resolution are drafted here, as the rules loop drafts its own:
staff hear of a resolution only for an alert they were told of. The customer hears nothing
more: their pending notices are cancelled.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from trackwatch.config import Settings
from trackwatch.errors import InputError
from trackwatch.fields import plain_text_problem
from trackwatch.model import Alert, Audience, Severity, Shipment
from trackwatch.notify.channels import ChannelDirectory
from trackwatch.notify.drafting import Drafter, Pacing
from trackwatch.notify.render import Renderer
from trackwatch.store.contract import Shipments
from trackwatch.store.records import NoticeDraft, Stopped, StopWatching

REASON_MAX = 200


def checked_reason(value: object, field: str = "reason") -> str:
    """A stop's reason (or who stopped it) as given: one line of plain text, 1 to 200
    characters; InputError naming `field` otherwise."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= REASON_MAX:
        raise InputError(field, f"must be a text of 1 to {REASON_MAX} characters")
    if problem := plain_text_problem(value):
        raise InputError(field, problem)
    return value.strip()


def drafter_for(settings: Settings) -> Drafter:
    """A drafter for staff notices (no customer is written to from here)."""
    renderer = Renderer({sid: s.templates_dir for sid, s in settings.stores.items()
                         if s.templates_dir is not None})  # fmt: skip
    return Drafter(settings, ChannelDirectory(settings.stores), renderer)


def _resolution(
    drafter: Drafter, pace: Pacing, shipment: Shipment, alert: Alert, reason: str, by: str
) -> tuple[NoticeDraft, ...]:
    if Audience.STAFF not in alert.audiences or alert.severity is Severity.INFO:
        return ()  # as the rules loop: an info-level flag ending is no news
    return drafter.for_shipment(shipment, alert.rule, alert.severity,
                                [(Audience.STAFF, "resolved")], pace, alert=alert,
                                reason=f"watching stopped by {by}: {reason}")  # fmt: skip


async def stop_requests(
    store: Shipments, settings: Settings, stops: Sequence[tuple[Shipment, str]], by: str,
    now: datetime,
) -> list[StopWatching]:  # fmt: skip
    """Each (shipment, reason) as a stop, with the staff notices of its open alerts'
    resolutions."""
    if not stops:
        return []
    ids = [shipment.id or 0 for shipment, _ in stops]
    open_alerts = await store.open_alerts(ids)
    drafter, pace = drafter_for(settings), Pacing(now)
    return [
        StopWatching(sid, reason, by, {a.id: _resolution(drafter, pace, shipment, a, reason, by)
                                       for a in open_alerts[sid]})
        for sid, (shipment, reason) in zip(ids, stops, strict=True)
    ]  # fmt: skip


async def stop_shipment(
    store: Shipments, settings: Settings, shipment: Shipment, reason: str, by: str,
    now: datetime,
) -> Stopped:  # fmt: skip
    """Stop watching `shipment`; stopping one already stopped changes nothing."""
    (stop,) = await stop_requests(store, settings, [(shipment, reason)], by, now)
    stopped = await store.stop_watching(stop.shipment_id, reason, by, now, stop.notices)
    if stopped is None:
        raise LookupError(f"no shipment {stop.shipment_id}")
    return stopped
