"""UPS: Track API v1 (OAuth client credentials; one number per GET)."""
