"""Policies for tests about something other than promises (email, texts, logs, pacing).

A store's customers hear of a stalled parcel only when the store promised the threshold
(trackwatch.promises); the default policy promises nothing. Tests that need a customer
notice from a stall give their store seed 004's promise.
"""

from __future__ import annotations

STALL_PROMISE = "If your tracking hasn't updated in more than 3 business days"
STALL_PROMISED: dict[str, object] = {
    "promises": {"stall": {"domestic_business_days": STALL_PROMISE}},
}
