"""Schema migrations, applied in order; PRAGMA user_version records how many have run.

Timestamps are TEXT in one fixed UTC format (see store.timefmt) so that they sort and
compare as strings. A step may be Python (trackwatch.store.steps.PythonStep), run inside
the same transaction as the scripts.
"""

from trackwatch.store.steps import Migration
from trackwatch.store.zonefix import REDATE

MIGRATIONS: tuple[Migration, ...] = (
    """
    CREATE TABLE shipments (
        id INTEGER PRIMARY KEY,
        store TEXT NOT NULL,
        carrier TEXT NOT NULL,
        tracking_number TEXT NOT NULL,
        order_id TEXT NOT NULL,
        customer_email TEXT NOT NULL,
        customer_name TEXT NOT NULL DEFAULT '',
        destination_country TEXT NOT NULL,
        destination_postal_code TEXT NOT NULL DEFAULT '',
        shipped_at TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'unknown',
        last_event_at TEXT,
        eta TEXT,
        last_polled_at TEXT,
        next_poll_at TEXT,
        check_at TEXT,
        dirty INTEGER NOT NULL DEFAULT 1,
        polls INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at TEXT NOT NULL,
        UNIQUE (store, carrier, tracking_number)
    );
    CREATE INDEX shipments_next_poll ON shipments (active, next_poll_at);
    CREATE INDEX shipments_check ON shipments (active, dirty, check_at);

    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        shipment_id INTEGER NOT NULL REFERENCES shipments (id),
        occurred_at TEXT NOT NULL,
        code TEXT NOT NULL,
        place TEXT NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (shipment_id, code, occurred_at, place)
    );

    CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        shipment_id INTEGER NOT NULL REFERENCES shipments (id),
        rule TEXT NOT NULL,
        episode TEXT NOT NULL,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        summary TEXT NOT NULL,
        action TEXT NOT NULL,
        explanation TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        UNIQUE (shipment_id, rule, episode)
    );
    CREATE INDEX alerts_open ON alerts (state, shipment_id);

    CREATE TABLE notices (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER NOT NULL REFERENCES alerts (id),
        event TEXT NOT NULL,
        audience TEXT NOT NULL,
        channel TEXT NOT NULL,
        store TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        lease_until TEXT,
        idempotency_key TEXT NOT NULL UNIQUE,
        last_error TEXT,
        sent_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE INDEX notices_due ON notices (state, next_attempt_at);
    """,
    """
    ALTER TABLE shipments ADD COLUMN destination_city TEXT NOT NULL DEFAULT '';
    ALTER TABLE shipments ADD COLUMN ordered_at TEXT;
    ALTER TABLE shipments ADD COLUMN promised_by TEXT;
    ALTER TABLE shipments ADD COLUMN direction TEXT NOT NULL DEFAULT 'outbound';
    ALTER TABLE shipments ADD COLUMN missing_reported_at TEXT;
    ALTER TABLE shipments ADD COLUMN missing_reported_by TEXT;
    ALTER TABLE alerts ADD COLUMN audiences TEXT NOT NULL DEFAULT '';
    ALTER TABLE alerts ADD COLUMN escalated_at TEXT;
    ALTER TABLE alerts ADD COLUMN resolution TEXT;
    """,
    """
    ALTER TABLE notices ADD COLUMN shipment_id INTEGER;
    ALTER TABLE notices ADD COLUMN recipient TEXT;
    CREATE INDEX notices_customer ON notices (shipment_id, audience, next_attempt_at);
    """,
    # 4: alerts that belong to a store rather than a parcel (a channel that keeps failing,
    # later a carrier that is down) and notices that belong to no alert (the daily digest).
    # SQLite cannot drop NOT NULL in place, so both tables are rebuilt; the store opens
    # with foreign keys off while migrating so the rebuild can drop the old tables.
    """
    CREATE TABLE notices_new (
        id INTEGER PRIMARY KEY,
        alert_id INTEGER REFERENCES alerts (id),
        event TEXT NOT NULL,
        audience TEXT NOT NULL,
        channel TEXT NOT NULL,
        store TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        lease_until TEXT,
        idempotency_key TEXT NOT NULL UNIQUE,
        last_error TEXT,
        sent_at TEXT,
        created_at TEXT NOT NULL,
        shipment_id INTEGER,
        recipient TEXT
    );
    INSERT INTO notices_new SELECT id, alert_id, event, audience, channel, store, title, body,
        state, attempts, next_attempt_at, lease_until, idempotency_key, last_error, sent_at,
        created_at, shipment_id, recipient FROM notices;
    DROP TABLE notices;
    ALTER TABLE notices_new RENAME TO notices;
    CREATE INDEX notices_due ON notices (state, next_attempt_at);
    CREATE INDEX notices_customer ON notices (shipment_id, audience, next_attempt_at);

    CREATE TABLE alerts_new (
        id INTEGER PRIMARY KEY,
        shipment_id INTEGER REFERENCES shipments (id),
        store TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        rule TEXT NOT NULL,
        episode TEXT NOT NULL,
        state TEXT NOT NULL,
        severity TEXT NOT NULL,
        summary TEXT NOT NULL,
        action TEXT NOT NULL,
        explanation TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        resolved_at TEXT,
        resolved_by TEXT,
        audiences TEXT NOT NULL DEFAULT '',
        escalated_at TEXT,
        resolution TEXT,
        UNIQUE (shipment_id, rule, episode)
    );
    INSERT INTO alerts_new SELECT a.id, a.shipment_id, s.store, '', a.rule, a.episode, a.state,
        a.severity, a.summary, a.action, a.explanation, a.opened_at, a.resolved_at,
        a.resolved_by, a.audiences, a.escalated_at, a.resolution
        FROM alerts a JOIN shipments s ON s.id = a.shipment_id;
    DROP TABLE alerts;
    ALTER TABLE alerts_new RENAME TO alerts;
    CREATE INDEX alerts_open ON alerts (state, shipment_id);
    CREATE INDEX alerts_store ON alerts (store, state);
    CREATE UNIQUE INDEX alerts_one_open_per_subject ON alerts (store, rule, subject)
        WHERE shipment_id IS NULL AND state = 'open';

    ALTER TABLE shipments ADD COLUMN customer_phone TEXT NOT NULL DEFAULT '';
    -- Bumped by every write that makes a shipment dirty, so that a judgement made on older
    -- data does not clear the flag a newer poll or report set meanwhile.
    ALTER TABLE shipments ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    # 5: the scheduler's priority (the nearest deadline a poll must verify), why polling of a
    # shipment stopped, and the carrier calls made, so a restart never overspends a quota.
    """
    ALTER TABLE shipments ADD COLUMN deadline_at TEXT;
    ALTER TABLE shipments ADD COLUMN stopped TEXT;
    ALTER TABLE shipments ADD COLUMN stopped_at TEXT;
    ALTER TABLE shipments ADD COLUMN restarted_at TEXT;
    CREATE INDEX shipments_deadline ON shipments (carrier, deadline_at);
    CREATE TABLE carrier_calls (carrier TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX carrier_calls_at ON carrier_calls (carrier, at);
    """,
    # 6: webhook deliveries already handled (Shopify sends one delivery more than once).
    """
    CREATE TABLE webhook_receipts (key TEXT PRIMARY KEY, received_at TEXT NOT NULL);
    CREATE INDEX webhook_receipts_at ON webhook_receipts (received_at);
    """,
    # 7: what the daemon learnt about a shipment beyond its scans: the carrier the sender
    # named when another one delivers it (a UPS SurePost label is tracked with USPS), the
    # carrier's latest remark (it does not know the number yet; scans of another parcel
    # ignored), consecutive polls the carrier left unanswered (for back-off), and why the
    # daemon set a row aside that it could not read, poll or judge.
    """
    ALTER TABLE shipments ADD COLUMN sender_carrier TEXT;
    ALTER TABLE shipments ADD COLUMN carrier_note TEXT;
    ALTER TABLE shipments ADD COLUMN misses INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE shipments ADD COLUMN set_aside TEXT;
    ALTER TABLE shipments ADD COLUMN set_aside_at TEXT;
    """,
    # 8: where a shipment came from (`shopify:<fulfillment id>`), so that an update of that
    # fulfillment finds its shipments; who stopped watching one by hand or on the store's
    # word (`active` = 0 since then: neither polled nor judged); and the latest version of
    # each Shopify fulfillment applied, since Shopify may deliver an older one later.
    """
    ALTER TABLE shipments ADD COLUMN source TEXT;
    ALTER TABLE shipments ADD COLUMN stopped_by TEXT;
    CREATE INDEX shipments_source ON shipments (store, source);
    CREATE INDEX shipments_number ON shipments (store, tracking_number);
    CREATE TABLE fulfillments (
        store TEXT NOT NULL,
        source TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        PRIMARY KEY (store, source)
    );
    """,
    # 9: a follow-up the customer is owed: they were told their parcel is stuck ("We will
    # write again as soon as it moves"), the alert ended without their hearing more (a staff
    # finding took it over), so the next scan of movement after `follow_up_after` brings it.
    """
    ALTER TABLE shipments ADD COLUMN follow_up_alert INTEGER;
    ALTER TABLE shipments ADD COLUMN follow_up_after TEXT;
    """,
    # 10: claims, so that daemons sharing a database never poll or judge one shipment twice:
    # a loop takes due rows by setting a lease (the instant it runs out), and writing what it
    # did clears it; a lease left by a daemon that died runs out and the row is taken again.
    """
    ALTER TABLE shipments ADD COLUMN poll_lease TEXT;
    ALTER TABLE shipments ADD COLUMN judge_lease TEXT;
    """,
    # 11: what every daemon must know of a carrier (issue 18): parked after a 429 until when,
    # and failing since when, how often, until when it is left alone, with the last error.
    """
    CREATE TABLE carrier_state (
        carrier TEXT PRIMARY KEY,
        parked_until TEXT,
        since TEXT,
        failures INTEGER NOT NULL DEFAULT 0,
        until TEXT,
        message TEXT,
        kind TEXT,
        repeats INTEGER NOT NULL DEFAULT 0
    );
    """,
    # 12: each carrier's calls per day of a daily quota (DHL 250, FedEx 100,000 a day, reset
    # at 00:00 GMT), counted as they are taken: counting the day's ledger rows on every call
    # cost more with every call of the day (FedEx's 100,000th call counted 99,999 rows).
    # The days the ledger still holds are counted from it, so that a daemon upgraded in the
    # middle of a day does not spend that day's quota a second time.
    """
    CREATE TABLE carrier_days (
        carrier TEXT NOT NULL,
        day TEXT NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (carrier, day)
    );
    INSERT INTO carrier_days (carrier, day, calls)
        SELECT carrier, substr(at, 1, 10) || 'T00:00:00.000000Z', COUNT(*)
        FROM carrier_calls GROUP BY 1, 2;
    """,
    # 13: retention (trackwatch.retention): finished shipments found by when polling stopped,
    # and notice bodies not yet blanked by when they were queued.
    """
    CREATE INDEX shipments_stopped ON shipments (stopped_at);
    CREATE INDEX notices_unblanked ON notices (created_at) WHERE body != '';
    """,
    # 14: the staff console (issue 20): staff accounts (one store's, or an operator's of
    # every store; `generation` grows with each new password so that older sessions end),
    # what staff did there, and an alert's triage (who has it, snoozed until when), kept on
    # the alert so that retention and forget take it with the alert.
    """
    CREATE TABLE staff (
        id INTEGER PRIMARY KEY,
        login TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL,
        store TEXT,
        password_hash TEXT NOT NULL,
        generation INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE staff_actions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        staff TEXT NOT NULL,
        store TEXT NOT NULL,
        action TEXT NOT NULL,
        shipment_id INTEGER,
        alert_id INTEGER,
        notice_id INTEGER,
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX staff_actions_shipment ON staff_actions (shipment_id);
    ALTER TABLE alerts ADD COLUMN assignee TEXT;
    ALTER TABLE alerts ADD COLUMN snoozed_until TEXT;
    CREATE INDEX shipments_order ON shipments (order_id);
    CREATE INDEX shipments_tracking ON shipments (tracking_number);
    CREATE INDEX shipments_email ON shipments (customer_email);
    """,
    # 15: the carriers' report card (trackwatch.reportcard): the first ETA a carrier gave
    # (`eta` is its latest: an ETA moved later would make every parcel look on time), and
    # shipments found by when they shipped. Older rows have no first ETA: it was not kept.
    """
    ALTER TABLE shipments ADD COLUMN first_eta TEXT;
    CREATE INDEX shipments_shipped ON shipments (shipped_at);
    """,
    # 16: the console's search by customer email, in any case: an index that folds case as
    # the search does (NOCASE folds ASCII, as lower() does), so it is no longer a full scan.
    """
    CREATE INDEX shipments_email_nocase ON shipments (customer_email COLLATE NOCASE);
    """,
    # 17: the Shopify fulfillment a shipment came from as the Admin API names it
    # (gid://shopify/Fulfillment/<id>), so that write-back can record events on it.
    """
    ALTER TABLE shipments ADD COLUMN fulfillment_gid TEXT;
    """,
    # 18: each loop's wake-up reads an index, not every active row (issue 21): the rules
    # loop's dirty rows by id and due checks by time apart (`dirty OR check_at<=?` could use
    # no index: their index on (active, dirty, check_at) goes), and the rows a loop holds a
    # claim on, which its next-due time looks at apart from the rest.
    """
    DROP INDEX shipments_check;
    CREATE INDEX shipments_dirty ON shipments (id) WHERE dirty=1 AND active=1;
    CREATE INDEX shipments_check_at ON shipments (check_at) WHERE active=1;
    CREATE INDEX shipments_poll_leased ON shipments (poll_lease) WHERE poll_lease IS NOT NULL;
    CREATE INDEX shipments_judge_leased ON shipments (judge_lease) WHERE judge_lease IS NOT NULL;
    """,
    # 19: carrier push (trackwatch.push): pushes received, stored before they are answered and
    # worked after (`digest` stores a delivery received twice once); the subscriptions held
    # with each carrier per shipment (several rows share a DHL subscription id; `secret`
    # authenticates the carrier's pushes); and until when push covers a shipment, so that
    # polling eases off until then and resumes when the pushes go quiet.
    """
    ALTER TABLE shipments ADD COLUMN push_until TEXT;
    CREATE TABLE push_inbox (
        id INTEGER PRIMARY KEY,
        carrier TEXT NOT NULL,
        digest TEXT NOT NULL,
        body TEXT NOT NULL,
        received_at TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'new',
        attempts INTEGER NOT NULL DEFAULT 0,
        lease_until TEXT,
        worked_at TEXT,
        error TEXT,
        UNIQUE (carrier, digest)
    );
    CREATE INDEX push_inbox_new ON push_inbox (state, id);
    CREATE INDEX push_inbox_worked ON push_inbox (worked_at);
    CREATE TABLE push_subscriptions (
        id INTEGER PRIMARY KEY,
        carrier TEXT NOT NULL,
        shipment_id INTEGER NOT NULL,
        tracking_number TEXT NOT NULL,
        state TEXT NOT NULL,
        subscription_id TEXT,
        secret TEXT,
        etag TEXT,
        expires_at TEXT,
        due_at TEXT,
        last_push_at TEXT,
        error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (carrier, shipment_id)
    );
    CREATE INDEX push_subscriptions_due ON push_subscriptions (carrier, due_at);
    CREATE INDEX push_subscriptions_id ON push_subscriptions (carrier, subscription_id);
    CREATE INDEX push_subscriptions_shipment ON push_subscriptions (shipment_id);
    """,
    # 20: instants read from local times in the zone the old lookup gave (Canada's first in
    # zone.tab, Newfoundland's, for every Canadian place; Lord Howe's for Australia; ...),
    # re-dated to the zone trackwatch.zones gives now: a Python step (trackwatch.store.zonefix).
    REDATE,
)
