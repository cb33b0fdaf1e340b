"""partial-export: a platform export that is one page of a longer list is not the whole history.

Svix pages say `done: false` and give the `iterator` of the next page; Hookdeck pages give a
`pagination.next` cursor. Judged from the import's facts (`LogAnalysis.import_facts["exports"]`,
one entry per platform file whose page envelopes were read), not from the rows: nothing in the
attempts themselves shows what is missing. Logs without page envelopes (canonical files, bare
arrays, databases) get no finding, since nothing can be said either way.
"""

from __future__ import annotations

from typing import Any

from diagnostics.analyzers.base import LogAnalysis
from diagnostics.findings import Finding, Severity, Status

SOURCE = "analyzers.exports"
MAX_CURSOR_CHARS = 200
PLATFORM_NAMES = {"svix": "Svix", "hookdeck": "Hookdeck", "convoy": "Convoy", "github": "GitHub"}


def _paged(a: LogAnalysis) -> list[dict[str, Any]]:
    return [e for e in a.import_facts.get("exports", ()) if "partial" in e]


def analyze(a: LogAnalysis) -> list[Finding]:
    paged = _paged(a)
    if not paged:
        return []
    partial = [e for e in paged if e["partial"]]
    if not partial:
        return [
            Finding(
                code="partial-export",
                status=Status.PASS,
                severity=Severity.INFO,
                title="The platform export is complete",
                summary=f"The last page of {'each' if len(paged) > 1 else 'the'} export says no page follows.",
                subject=a.subject,
                evidence=(("exports checked", len(paged)),),
                source=SOURCE,
            )
        ]
    names = sorted({PLATFORM_NAMES.get(e["platform"], e["platform"]) for e in partial})
    first = partial[0]
    return [
        Finding(
            code="partial-export",
            status=Status.WARN,
            severity=Severity.MEDIUM,
            title="The export is one page of a longer list" if len(paged) == 1
            else f"{len(partial)} of {len(paged)} export files stop before the end of their list",
            summary=f"The {' and '.join(names)} export stops where more attempts follow, so every count, rate and "
            f"outage here covers only the pages in the file. To get the rest, {first['rerun']}.",
            subject=a.subject,
            evidence=(
                ("partial files", len(partial)),
                ("pages read", sum(int(e.get("pages") or 0) for e in partial)),
                ("next cursor", str(first.get("next") or "-")[:MAX_CURSOR_CHARS]),
            ),
            samples=tuple(
                {"source": e["source"], "platform": e["platform"], "pages": e.get("pages"),
                 "next": str(e.get("next") or "")[:MAX_CURSOR_CHARS], "rerun": e["rerun"]}
                for e in partial
            ),
            sample_total=len(partial),
            source=SOURCE,
        )
    ]
