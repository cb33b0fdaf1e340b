"""Signed-content templates the debugger tries when the body is intact but the signed bytes
were assembled differently (F7): a part missing (timestamp, id, URL), a different separator,
a different order, a prefix such as Slack's `v0:` left out.
"""

from __future__ import annotations

from itertools import permutations

from diagnostics.signatures.base import template_parts

SEPARATORS = ("", ".", ":")
MAX_PARTS = 3


def template_variants(canonical: str, available: list[str]) -> list[tuple[str, str]]:
    """(template, what differs from the canonical one), closest to the canonical template first."""
    others = [p for p in available if p != "body"]
    canonical_parts = template_parts(canonical)
    found: dict[str, str] = {}
    for size in range(0, min(len(others), MAX_PARTS - 1) + 1):
        for chosen in permutations(others, size):
            for arrangement in set(permutations([*chosen, "body"])):
                for separator in SEPARATORS if len(arrangement) > 1 else ("",):
                    template = separator.join("{" + p + "}" for p in arrangement)
                    if template != canonical and template not in found:
                        found[template] = describe(template, canonical)
    ranked = sorted(found, key=lambda t: (_distance(template_parts(t), canonical_parts), t))
    return [(t, found[t]) for t in ranked]


def _distance(parts: list[str], canonical: list[str]) -> int:
    missing = len(set(canonical) - set(parts))
    extra = len(set(parts) - set(canonical))
    reordered = 0 if [p for p in parts if p in canonical] == [p for p in canonical if p in parts] else 1
    return 2 * (missing + extra) + reordered


def describe(template: str, canonical: str) -> str:
    """Plain words for how `template` differs from `canonical`."""
    parts, wanted = template_parts(template), template_parts(canonical)
    notes = []
    missing = [p for p in wanted if p not in parts]
    extra = [p for p in parts if p not in wanted]
    if missing:
        notes.append("without the " + " and ".join(missing))
    if extra:
        notes.append("with the " + " and ".join(extra) + " added")
    if not missing and not extra:
        if parts != wanted:
            notes.append("with the parts in a different order")
        else:
            notes.append("with a different separator or prefix")
    return f"signed as {template!r} instead of {canonical!r} ({', '.join(notes)})"
