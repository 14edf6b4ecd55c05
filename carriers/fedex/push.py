"""FedEx Advanced Integrated Visibility (AIV) webhook body → TrackingResults. Pure.

FedEx publishes no schema for the push beyond `TestWebhookOutputVO`: `outputMetaData[]`
(when and at which attempt FedEx pushed) and `output.completeTrackResults[]`, shaped as the
Track API's answer, so it is read by the poll's parser. FedEx says pushes may arrive out of
order and repeat the same milestone: each is a state update, merged by scan time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo

from carriers.fedex.parse import parse
from carriers.push import PushMessage, load, obj, reading


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    data = load(body)
    obj(data, "body")
    with reading("output"):
        return PushMessage(results=parse(data, zones))
