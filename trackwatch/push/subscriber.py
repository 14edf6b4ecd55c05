"""The subscription loop: each push carrier's subscriptions for our shipments, made, renewed,
checked and ended, each row due at the next instant something must be done about it:

- a new shipment (not delivered, still watched) is subscribed, in the carrier's batches;
- a refused subscription is tried again with back-off (polling covers the parcel meanwhile);
- an active one is due when it must be renewed (UPS: a day before its 14 days run out) or
  when its pushes would have gone quiet: then, if no push came, the carrier is asked how it
  stands (USPS may have SUSPENDED it: it is enabled again) and it is re-armed;
- one whose shipment is finished (delivered, stopped, gone) is unsubscribed (USPS deletes
  with If-Match; DHL once every shipment of its subscription is finished; UPS lapses).

A shipment is covered by push (`push_until`) while its subscription is active: its routine
polls wait. A failed, suspended or ended subscription uncovers it at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

from carriers.push import PUSHES_AFTER_DELIVERY, Control, Held, Hook, PushAgent, Subscribed
from trackwatch.clock import Clock
from trackwatch.config import Settings
from trackwatch.errors import CarrierError
from trackwatch.push.merge import quiet_after
from trackwatch.store.contract import PushStore
from trackwatch.store.push_records import Subscription, SubscriptionSave, SubState

log = logging.getLogger("trackwatch.push")
LEASE = timedelta(minutes=10)
RENEW_BEFORE = timedelta(days=1)
HANDSHAKE_WAIT = timedelta(hours=1)
RETRY = timedelta(hours=1)
BATCH = 500
# New shipments of a carrier that subscribes several numbers a call (UPS 100, DHL 10) are
# gathered this long, so that a call takes many: a label is picked up hours after it is
# printed, and its first poll does not wait for the subscription.
GATHER = timedelta(hours=2)


def held(sub: Subscription) -> Held:
    return Held(sub.tracking_number, sub.subscription_id, sub.secret, sub.etag, sub.expires_at)


class Subscriber:
    def __init__(self, store: PushStore, clock: Clock, settings: Settings,
                 agents: Mapping[str, PushAgent], hook: Callable[[str], Hook]) -> None:  # fmt: skip
        self._store = store
        self._clock = clock
        self._settings = settings
        self._agents = agents
        self._hook = hook
        self._gathered: dict[str, datetime] = {}  # carrier -> when new shipments were last taken

    def configure(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def active(self) -> bool:
        """Whether any carrier's push is on."""
        return bool(self._agents)

    async def next_due(self) -> datetime | None:
        found = [await self._store.next_subscription_at(c) for c in self._agents]
        found += [at + GATHER for at in self._gathered.values()]
        return min((d for d in found if d is not None), default=None)

    async def run_once(self) -> int:
        """One pass over every push carrier; returns how many subscriptions it changed."""
        changed = 0
        for carrier, agent in self._agents.items():
            try:
                changed += await self._carrier(carrier, agent)
            except CarrierError as exc:  # rows keep their claim's end: tried again then
                log.warning("%s push subscriptions: %s", carrier, exc.message)
        return changed

    async def _carrier(self, carrier: str, agent: PushAgent) -> int:
        now = self._clock.now()
        fresh = []
        last = self._gathered.get(carrier)
        if agent.batch_size == 1 or last is None or now >= last + GATHER:
            self._gathered[carrier] = now
            fresh = await self._store.claim_new_subscriptions(carrier, now, now + LEASE, BATCH)
        due = await self._store.claim_due_subscriptions(carrier, now, now + LEASE, BATCH)
        save = SubscriptionSave()
        ending = [s for s in due if s.finished]
        await self._end(agent, ending, save)
        making = fresh + [s for s in due if not s.finished and s.state in
                          (SubState.PENDING, SubState.FAILED)]  # fmt: skip
        renewing = [s for s in due if not s.finished and s.state not in
                    (SubState.PENDING, SubState.FAILED)]  # fmt: skip
        making += [s for s in renewing if _expiring(s, now)]
        await self._make(carrier, agent, making, save)
        for sub in renewing:
            if not _expiring(sub, now):
                await self._recheck(agent, sub, save)
        await self._store.save_subscriptions(save, self._clock.now())
        return len(save.kept) + len(save.ended)

    async def _end(self, agent: PushAgent, ending: Sequence[Subscription],
                   save: SubscriptionSave) -> None:  # fmt: skip
        """Unsubscribe what the carrier holds for finished shipments; a subscription several
        shipments share (DHL) only once all of them are finished."""
        live = [s for s in ending if s.subscription_id and s.state is not SubState.PENDING]
        by_id: dict[str, list[Subscription]] = {}
        for sub in live:
            by_id.setdefault(sub.subscription_id or "", []).append(sub)
        gone: list[Held] = []
        for sid, subs in by_id.items():
            rows = await self._store.subscriptions_by_id(agent.name, sid)
            if all(r.finished for r in rows):
                gone.append(held(subs[0]))
        if gone:
            await agent.unsubscribe(gone)
        save.ended += ending
        if agent.name not in PUSHES_AFTER_DELIVERY:  # the others still push: cover stays
            save.cover.update({s.shipment_id: None for s in ending})

    async def _make(self, carrier: str, agent: PushAgent, subs: Sequence[Subscription],
                    save: SubscriptionSave) -> None:  # fmt: skip
        hook = self._hook(carrier)
        size = max(1, agent.batch_size)
        for start in range(0, len(subs), size):
            part = subs[start : start + size]
            try:
                answers = await agent.subscribe([s.tracking_number for s in part], hook)
            except CarrierError as exc:
                log.warning("%s: subscribing %d number(s) failed: %s", carrier, len(part),
                            exc.message)  # fmt: skip
                answers = [Subscribed(Held(s.tracking_number), "failed", exc.message) for s in part]
            by_number = {a.held.number: a for a in answers}
            for sub in part:
                answer = by_number.get(sub.tracking_number)
                answer = answer or Subscribed(Held(sub.tracking_number), "failed", "no answer")
                self._keep(sub, answer, save)

    async def _recheck(self, agent: PushAgent, sub: Subscription, save: SubscriptionSave) -> None:
        """Due while active: re-armed if a push came within the quiet span, or if no scan
        came by poll that a push should have brought; else the carrier is asked how the
        subscription stands (and a suspended one is enabled again)."""
        now = self._clock.now()
        quiet = quiet_after(sub.status, self._settings.carriers.get(agent.name).push)
        heard = sub.last_push_at is not None and sub.last_push_at + quiet > now
        if sub.state is SubState.ACTIVE and (heard or not sub.missed_push()):
            # Pushes come, or the parcel is merely quiet (no scan has come by a poll either):
            # nothing to ask the carrier.
            since = sub.last_push_at if heard and sub.last_push_at else now
            save.kept.append(sub.but(due_at=self._due(sub, since)))
            return
        try:
            answer = await agent.check(held(sub))
        except CarrierError as exc:
            answer = Subscribed(held(sub), sub.state.value, exc.message)
        if answer.state == SubState.SUSPENDED.value:
            log.warning("%s: subscription %s was suspended; enabling it again failed",
                        agent.name, sub.subscription_id)  # fmt: skip
        self._keep(sub, answer, save)

    async def control(self, carrier: str, message: Control) -> None:
        """A handshake message a receiver stored (DHL): validate → activate with the secret;
        ready → active; delete → the carrier ended it."""
        agent = self._agents.get(carrier)
        rows = await self._store.subscriptions_by_id(carrier, message.subscription_id)
        if agent is None or not rows:
            return
        if message.kind == "validate" and rows[0].state is not SubState.VALIDATING:
            # A validate once the handshake is over: replayed, or made by whoever holds
            # the static token. Activating again would spend DHL's quota, and fail.
            log.info("%s: %s for subscription %s, not awaiting a handshake: ignored",
                     carrier, message.kind, message.subscription_id)  # fmt: skip
            return
        save = SubscriptionSave()
        if message.kind == "validate":
            answer = await agent.activate(held(rows[0]), message.secret)
        elif message.kind == "ready":
            answer = Subscribed(held(rows[0]), "active")
        elif message.kind == "activate":  # activated, awaiting DHL's approval: still waiting
            answer = Subscribed(held(rows[0]), "validating")
        else:
            answer = Subscribed(held(rows[0]), "failed", f"the carrier sent {message.kind}")
        for row in rows:
            self._keep(row, Subscribed(held(row), answer.state, answer.error), save)
        await self._store.save_subscriptions(save, self._clock.now())

    def _keep(self, sub: Subscription, answer: Subscribed, save: SubscriptionSave) -> None:
        now = self._clock.now()
        state = SubState(answer.state)
        h = answer.held
        kept = sub.but(state=state, subscription_id=h.subscription_id or sub.subscription_id,
                       secret=h.secret or sub.secret, etag=h.etag or sub.etag,
                       expires_at=h.expires_at or sub.expires_at, error=answer.error)  # fmt: skip
        if state is SubState.ACTIVE:
            kept = kept.but(due_at=self._due(kept, now))
            if sub.state is not SubState.ACTIVE:
                # Newly covered. A subscription found still active after its pushes went
                # quiet does not cover the parcel again: it is polled until a push comes.
                push = self._settings.carriers.get(sub.carrier).push
                save.cover[sub.shipment_id] = now + quiet_after(sub.status, push)
        elif state is SubState.VALIDATING:
            kept = kept.but(due_at=now + HANDSHAKE_WAIT)
        else:
            kept = kept.but(due_at=now + RETRY)
            save.cover[sub.shipment_id] = None
        save.kept.append(kept)

    def _due(self, sub: Subscription, since: datetime) -> datetime:
        """When an active subscription needs looking at: its renewal, or its pushes quiet."""
        push = self._settings.carriers.get(sub.carrier).push
        due = since + quiet_after(sub.status, push)
        if sub.expires_at is not None:
            due = min(due, sub.expires_at - RENEW_BEFORE)
        return max(due, self._clock.now() + timedelta(minutes=1))


def _expiring(sub: Subscription, now: datetime) -> bool:
    return sub.expires_at is not None and sub.expires_at - RENEW_BEFORE <= now
