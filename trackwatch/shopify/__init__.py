"""Shopify: one fulfillment, however it arrives (a webhook, an `orders/fulfilled` order, the
Admin API's backfill), lands through `landing.land`; the Admin API client (`admin_api`), the
backfill (`backfill`) and the write-back of fulfillment events (`writeback`)."""
