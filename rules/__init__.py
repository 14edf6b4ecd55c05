"""The detection rules, in an explicit list (no discovery magic)."""

from rules.base import Rule, ShipmentView
from rules.stalled import Stalled

RULES: tuple[Rule, ...] = (Stalled(),)

__all__ = ["RULES", "Rule", "ShipmentView", "Stalled"]
