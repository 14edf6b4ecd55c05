"""An unmapped carrier code is logged once, by its code alone: a carrier's words may name
a person, and a carrier (or a verified push) sending a new code in every answer must not
grow the set of those reported without end (push review)."""

from __future__ import annotations

import logging

import pytest

from carriers import assemble
from carriers.dhl.parse import classify as dhl_classify
from carriers.usps.parse import classify as usps_classify


def test_the_carriers_words_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="trackwatch"):
        dhl_classify("zz-unmapped-1", "Handed to JOHN SMITH at 12 Elm Street")
        usps_classify("", "Left with JANE DOE at 4 Oak Road")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "zz-unmapped-1" in logged
    assert "SMITH" not in logged and "Elm" not in logged and "DOE" not in logged


def test_the_codes_reported_are_bounded(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(assemble, "_reported", set())
    with caplog.at_level(logging.WARNING, logger="trackwatch"):
        for n in range(assemble.REPORTED_AT_MOST + 50):
            assemble.report_unmapped("dhl", f"code-{n}")
    assert len(assemble._reported) == assemble.REPORTED_AT_MOST
    assert len(caplog.records) == assemble.REPORTED_AT_MOST + 1  # and one line saying so
