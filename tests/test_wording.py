"""Counts agree with their nouns in every sentence a customer reads."""

from __future__ import annotations

from diagnostics.wording import agree, counted, these


def test_one_is_singular_and_thousands_are_separated() -> None:
    assert counted(1, "event") == "1 event"
    assert counted(0, "event") == "0 events"
    assert counted(1204, "event") == "1,204 events"
    assert counted(2, "entry", "entries") == "2 entries"


def test_pointing_back_and_verbs() -> None:
    assert these(1, "event") == "this event" and these(3, "event") == "these 3 events"
    assert agree(1, "was", "were") == "was" and agree(2, "was", "were") == "were"
