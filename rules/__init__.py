"""The detection rules, in an explicit list (no discovery magic)."""

from rules.base import BaseRule, Rule, ShipmentView
from rules.delivered import Delivered, RiskyDelivery
from rules.exceptions import Exceptions
from rules.expired import Expired
from rules.late import Late
from rules.lost import Lost
from rules.missing import DeliveredNotReceived
from rules.not_picked_up import NotPickedUp
from rules.returns import Returns
from rules.stalled import Stalled

RULES: tuple[Rule, ...] = (
    NotPickedUp(),
    Stalled(),
    Late(),
    Lost(),
    Exceptions(),
    Delivered(),
    RiskyDelivery(),
    DeliveredNotReceived(),
    Returns(),
    Expired(),
)

__all__ = [
    "RULES",
    "BaseRule",
    "Delivered",
    "DeliveredNotReceived",
    "Exceptions",
    "Expired",
    "Late",
    "Lost",
    "NotPickedUp",
    "Returns",
    "RiskyDelivery",
    "Rule",
    "ShipmentView",
    "Stalled",
]
