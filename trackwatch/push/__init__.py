"""Carrier push: receivers (trackwatch.web.push) keep verified pushes in the store's inbox
and answer at once; the PushWorker merges them into shipments as polls would; the
Subscriber holds each carrier's subscriptions for our shipments (subscribe, renew, check,
unsubscribe). Polling stays, to verify deadlines and to catch a push that never came."""
