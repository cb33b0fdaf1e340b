"""Which sender profile judges a log, and why: the platform that wrote the export, unless told.

A GitHub export judged under our own retry rules reads "still being retried" although GitHub
never retries; a Convoy log judged against our 15 s timeout misses Convoy's 10 s. So when no
profile is requested and every source is one platform's export, that platform's profile judges
it; the reason is stated in the report either way.
"""

from __future__ import annotations

from collections.abc import Mapping

from diagnostics.logs.detect import PLATFORM_NAMES

# Importer name -> built-in sender profile (profiles.BUILTIN_PROFILES).
PLATFORM_PROFILES = {"svix": "svix", "hookdeck": "hookdeck", "convoy": "convoy", "github": "github"}


def choose_profile(requested: str | None, formats: Mapping[str, str]) -> tuple[str | None, str]:
    """(profile name, or None for our own sender; the reason in one sentence).

    `formats` maps each source to the importer that read it (AttemptTable.formats).
    """
    if requested:
        return requested, f"--profile {requested} was given"
    platforms = sorted({fmt for fmt in formats.values() if fmt in PLATFORM_PROFILES})
    others = [src for src, fmt in formats.items() if fmt not in PLATFORM_PROFILES]
    if len(platforms) == 1 and not others:
        name = PLATFORM_NAMES[platforms[0]]
        count = len(formats)
        files = f"the file is a {name} export" if count == 1 else f"all {count} files are {name} exports"
        return PLATFORM_PROFILES[platforms[0]], f"{files}: {name}'s own timeout and retry rules; --profile changes that"
    if platforms:
        mixed = ", ".join(PLATFORM_NAMES[p] for p in platforms) + (" and other sources" if others else "")
        return None, f"the sources mix {mixed}: our own sender rules; --profile picks one"
    return None, "the log is not a platform export and no --profile was given: our own sender rules"
