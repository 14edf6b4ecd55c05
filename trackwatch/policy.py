"""What a store promises its customers, as settings. Defaults follow the stores' own pages
(shared/seeds); each field's description names the page's promise."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class StorePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stall_business_days: int = Field(
        3,
        ge=1,
        le=30,
        description="no carrier update for this many business days is a stall "
        "(004: 'more than 3 business days'; 002 uses 5)",
    )
