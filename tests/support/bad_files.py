"""One table of bad delivery-log files, run through the library, the CLI and every page that
takes an upload: each must give one clear message (file, line and column where they exist),
never a traceback, and leave nothing behind.

Each row: (file name, content, a fragment the message must contain). The fragments are the
words a person reads, so a reworded message is a deliberate change to this table.
"""

from __future__ import annotations

import gzip
import json

PROSE = "Dear support,\nour webhooks stopped arriving yesterday. Can you help?\nThanks, Bob\n"
GOOD_CSV = "event_id,endpoint,attempted_at,status_code\nevt_1,ep_1,2026-03-02T10:00:00Z,200\n"
_RECORD = {"event_id": "evt_1", "endpoint": "ep_1", "url": "https://a.example.com/in",
           "attempted_at": "2026-03-02T10:00:00Z", "status_code": 200, "duration_ms": 10}


def one_line_json(records: int) -> str:
    """A JSON export on a single line (what `jq -c` or many dashboards' download buttons write)."""
    return json.dumps([dict(_RECORD, event_id=f"evt_{i}") for i in range(records)])


def _huge_line_broken() -> bytes:
    """Several MB on one line, broken at its very end: the column must be exact, the message short."""
    text = one_line_json(30_000)
    return (text[:-1] + ",}").encode()


HUGE_LINE_BROKEN = _huge_line_broken()

BAD_FILES: list[tuple[str, bytes, str]] = [
    ("empty.csv", b"", "empty"),
    ("prose.csv", PROSE.encode(), "line 1, column 2: the first line is not a header of column names"),
    ("prose.csv.gz", gzip.compress(PROSE.encode()), "column 2 has no name"),
    ("blank-column.csv", b"event_id,,attempted_at\ne1,x,2026-03-02T10:00:00Z\n", "column 2 has no name"),
    ("duplicate.csv", b"event_id,event_id,attempted_at\ne1,e2,2026-03-02T10:00:00Z\n",
     "repeats column(s) 'event_id'"),
    ("utf16.csv", GOOD_CSV.encode("utf-16"), "line 1: the file is UTF-16 text; save or export it as UTF-8"),
    ("utf16-no-bom.csv", GOOD_CSV.encode("utf-16-le"), "UTF-16"),
    ("latin1.csv", "event_id,endpoint,attempted_at,status_code\nevt_1,caf\xe9,2026-03-02T10:00:00Z,200\n"
     .encode("latin-1"), "line 2, column 10: the file is not UTF-8 text"),
    ("header-only.csv", b"event_id,endpoint,attempted_at,status_code\n", "line 2: the file has a header but no rows"),
    ("columns.csv", b"name,age\nbob,4\n", "missing required column(s)"),
    ("binary.txt", b"this is not a delivery log at all\x00\x01\x02\xff", "binary.txt"),
    ("huge-line.json", HUGE_LINE_BROKEN, f"line 1, column {len(HUGE_LINE_BROKEN)}: invalid JSON"),
    ("utf16.json", json.dumps([_RECORD]).encode("utf-16"), "the file is UTF-16 text"),
    ("numbers.json", b"[1, 2, 3]", "line 1: each record must be a JSON object"),
    ("broken.jsonl", (json.dumps(_RECORD) + "\n" + json.dumps(_RECORD) + "\n{not json\n").encode(),
     "line 3, column 2: invalid JSON"),
    ("truncated.parquet", b"PAR1" + b"\x00" * 100, "not a readable Parquet file"),
]

BAD_FILE_IDS = [name for name, _, _ in BAD_FILES]
