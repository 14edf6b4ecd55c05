"""The daemon's HTTP app: pages customers open from their emails."""
