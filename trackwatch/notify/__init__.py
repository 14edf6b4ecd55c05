"""Notices: rendering, routing to channels, and the durable outbox that delivers them."""
