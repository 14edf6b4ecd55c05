"""What a store promised, in its own words: the part of a policy a customer may be told.

Every number in a policy drives a rule, but not every number is the store's promise: most are
an operator's settings (when staff hear of a quiet parcel, when polling stops). A policy's
`[promises]` table names the settings the store's own page gives, each with the page's
sentence; `[remedies]` says, per situation, what the store offers its customer, again in its
own words. A customer is told only these: a rule whose threshold nobody promised alerts staff
alone, and a message about a situation with no remedy offers nothing but help.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Situation = Literal[
    "lost", "returned_to_sender", "address_issue", "customs_hold", "undeliverable", "damaged",
    "delivered_not_received",
]  # fmt: skip
SITUATIONS: tuple[Situation, ...] = (
    "lost", "returned_to_sender", "address_issue", "customs_hold", "undeliverable", "damaged",
    "delivered_not_received",
)  # fmt: skip
_OFFER = "what the store offers {}, in its own words (its page's sentence); empty: nothing"


class RemediesPolicy(BaseModel):
    """Per situation, the store's own terms for its customer, quoted from its page, or ""
    when the page offers nothing (then a message offers only help: "reply and we will help").
    A term may be a limit as well as an offer (seed 001: "We cannot guarantee reshipment for
    lost items due to the incorrect address provided by the purchaser")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lost: str = Field("", description=_OFFER.format("when a parcel is lost"))
    returned_to_sender: str = Field(
        "", description=_OFFER.format("when a parcel goes back to the store")
    )
    address_issue: str = Field(
        "", description=_OFFER.format("when the carrier cannot deliver to the address")
    )
    customs_hold: str = Field("", description=_OFFER.format("when customs hold a parcel"))
    undeliverable: str = Field(
        "", description=_OFFER.format("when the carrier cannot deliver for another reason")
    )
    damaged: str = Field("", description=_OFFER.format("when the carrier reports damage"))
    delivered_not_received: str = Field(
        "", description=_OFFER.format("when a delivered parcel did not arrive")
    )
    staff_tasks: dict[str, str] = Field(
        default_factory=dict,
        description="per situation, what staff must do to keep the store's terms, when those "
        "promise the customer an act (seed 003: 'we will promptly email you for your "
        "preference'): the staff alert leads with it, so that a person is told to keep it",
    )

    @model_validator(mode="after")
    def _tasks(self) -> Self:
        problems = []
        for situation, task in self.staff_tasks.items():
            if situation not in SITUATIONS:
                problems.append(f"remedies.staff_tasks.{situation}: not a situation (one of "
                                f"{', '.join(SITUATIONS)})")  # fmt: skip
            elif not task.strip():
                problems.append(f"remedies.staff_tasks.{situation}: give the task in words")
            elif not self.of(situation):
                problems.append(f"remedies.staff_tasks.{situation}: a task keeps the store's "
                                f"terms, and remedies.{situation} gives none")  # fmt: skip
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def of(self, situation: str) -> str:
        """The store's terms for `situation` (a name in SITUATIONS), "" for none."""
        value = getattr(self, situation, "") if situation in SITUATIONS else ""
        return str(value).strip()

    def task(self, situation: str) -> str:
        """What staff must do to keep the store's terms for `situation`, "" for nothing."""
        return self.staff_tasks.get(situation, "").strip()


def promise_problems(table: dict[str, dict[str, str]], sections: dict[str, set[str]]) -> list[str]:
    """What is wrong with a `[promises]` table: each entry must name a setting of a policy
    section (`stall.domestic_business_days`) and give the store's words for it."""
    problems = []
    for section, entries in table.items():
        if section not in sections:
            problems.append(f"promises.{section}: not a policy section (one of "
                            f"{', '.join(sorted(sections))})")  # fmt: skip
            continue
        for key, words in entries.items():
            if key not in sections[section]:
                problems.append(f"promises.{section}.{key}: [{section}] has no such setting")
            elif not words.strip():
                problems.append(f"promises.{section}.{key}: give the store's own words for it")
    return problems


def source_text(key: str, words: str | None) -> str:
    """Who set a number, for an explanation: the store's page (quoted) or the operator."""
    if words:
        return f"the store's promise ({key}): “{words}”"
    return f"an operator's setting ({key}), not the store's promise"
