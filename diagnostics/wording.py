"""Counted nouns in sentences a customer reads: "1 event", never "1 events".

Titles and summaries are pasted into tickets, so a count is written with its noun agreeing
(and thousands separated, as everywhere else in the reports).
"""

from __future__ import annotations


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """`3 events`, `1 event`, `1,204 events`."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def these(n: int, noun: str, plural: str | None = None) -> str:
    """`this event` or `these 3 events`: a count pointing back at samples just shown."""
    return f"this {noun}" if n == 1 else f"these {counted(n, noun, plural)}"


def agree(n: int, one: str, many: str) -> str:
    """The verb form for a count: agree(1, "was", "were") -> "was"."""
    return one if n == 1 else many
