"""FedEx Advanced Integrated Visibility (AIV) webhook body → TrackingResults. Pure.

FedEx publishes no schema for the push beyond `TestWebhookOutputVO`: `outputMetaData[]`
(when and at which attempt FedEx pushed) and `output.completeTrackResults[]`, shaped as the
Track API's answer, so it is read by the poll's parser. FedEx says pushes may arrive out of
order and repeat the same milestone: each is a state update, merged by scan time.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import tzinfo

from carriers.fedex.parse import parse
from carriers.push import MalformedPush, PushMessage, obj
from trackwatch.errors import MalformedResponse


def read(body: bytes, zones: Mapping[str, tzinfo] | None = None) -> PushMessage:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedPush("body", f"is not JSON ({exc})") from None
    obj(data, "body")
    try:
        return PushMessage(results=parse(data, zones))
    except MalformedResponse as exc:
        raise MalformedPush("output", exc.message) from None
