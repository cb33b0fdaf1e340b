"""The plan in the forms the platforms accept for their own replay (`replay-plan --export`).

- `ids`: one event id per line (any dashboard or script that resends by id);
- `csv`: one row per event with its category and evidence, cells neutralized against formula
  injection (a cell starting with = + - @ or a control character gets a leading apostrophe);
- `svix`: the body of Svix's `POST /api/v1/app/{app_id}/endpoint/{endpoint_id}/recover/`
  (`since`, `until`): the smallest window holding the selected events. Svix resends every failed
  message in that window, so `covered` counts the plan's other events it would resend too;
- `github`: the numeric delivery ids for `POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/
  {delivery_id}/attempts`, one per selected event (its latest delivery), read from the GitHub
  deliveries export the log came from; events without one are listed by guid.
Files are written whole (a temporary file renamed), so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from diagnostics.errors import InputError
from diagnostics.logs.detect import detect_format
from diagnostics.logs.files import decode_utf8, iter_json_records, read_bytes
from diagnostics.recovery.plan import Plan, at, iso

EXPORT_FORMATS = ("ids", "csv", "svix", "github")
CSV_COLUMNS = ("event_id", "category", "event_type", "attempts", "first_at", "last_at", "status_code", "error",
               "next_retry_at", "retries_exhausted_at", "evidence")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet evaluates."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def render_export(plan: Plan, fmt: str, path: str, categories: Sequence[str],
                  sources: Sequence[str] = ()) -> tuple[str, dict[str, Any]]:
    """The text of one export and what it holds (nothing written yet: every export of a run is
    rendered, and so checked, before the first file is written)."""
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}", field="--export")
    if not Path(path).parent.exists():
        raise InputError("the export folder does not exist", file=path)
    events = plan.selected(tuple(categories))
    summary: dict[str, Any] = {"format": fmt, "file": path, "categories": list(categories), "events": len(events)}
    if fmt == "ids":
        text = "".join(f"{e['event_id']}\n" for e in events)
    elif fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for e in events:
            writer.writerow([csv_cell(e.get(c)) for c in CSV_COLUMNS])  # times are ISO 8601 already
        text = out.getvalue()
    elif fmt == "svix":
        text, covered = _svix(plan, events)
        summary["covered"] = covered
    else:
        data = _github(plan, events, sources)
        summary["delivery_ids"] = len(data["delivery_ids"])
        summary["without_delivery_id"] = len(data["without_delivery_id"])
        text = json.dumps(data, indent=2) + "\n"
    return text, summary


def write_whole(path: str, text: str) -> None:
    """Write `text` to `path` through a temporary file, so a reader never sees half a file."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)


def export_plan(plan: Plan, fmt: str, path: str, categories: Sequence[str],
                sources: Sequence[str] = ()) -> dict[str, Any]:
    """Write the selected events of `plan` to `path` as `fmt`; return what was written."""
    text, summary = render_export(plan, fmt, path, categories, sources)
    write_whole(path, text)
    return summary


def export_all(plan: Plan, exports: Sequence[tuple[str, str]], categories: Sequence[str],
               sources: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Several exports, all rendered before any is written (one bad request writes nothing)."""
    rendered = [(path, *render_export(plan, fmt, path, categories, sources)) for fmt, path in exports]
    for path, text, _summary in rendered:
        write_whole(path, text)
    return [summary for _path, _text, summary in rendered]


def _svix(plan: Plan, events: list[dict[str, Any]]) -> tuple[str, dict[str, int]]:
    if not events:
        raise InputError("no events of the selected categories to recover: nothing to export", field="--export")
    since = min(at(e["first_at"]) for e in events)
    until = max(at(e["first_at"]) for e in events) + timedelta(seconds=1)
    covered: dict[str, int] = {}
    for e in plan.events:
        if since <= at(e["first_at"]) < until:
            covered[e["category"]] = covered.get(e["category"], 0) + 1
    return json.dumps({"since": iso(since), "until": iso(until)}, indent=2) + "\n", covered


def github_delivery_ids(sources: Sequence[str]) -> dict[str, int]:
    """guid -> numeric id of its latest delivery, from the GitHub deliveries exports among `sources`."""
    latest: dict[str, tuple[str, int]] = {}
    for source in sources:
        if not Path(source).is_file() or detect_format(source)[0] != "github":
            continue
        for _line, record in iter_json_records(decode_utf8(read_bytes(source), source), source):
            if not isinstance(record, dict):
                continue
            guid, number, at = record.get("guid"), record.get("id"), str(record.get("delivered_at") or "")
            usable = isinstance(guid, str) and isinstance(number, int) and not isinstance(number, bool)
            if usable and (guid not in latest or (at, number) > latest[guid]):
                latest[guid] = (at, number)
    return {guid: number for guid, (_at, number) in latest.items()}


def _github(plan: Plan, events: list[dict[str, Any]], sources: Sequence[str]) -> dict[str, Any]:
    ids = github_delivery_ids(sources)
    found = [{"guid": e["event_id"], "delivery_id": ids[e["event_id"]]} for e in events if e["event_id"] in ids]
    missing = [e["event_id"] for e in events if e["event_id"] not in ids]
    return {
        "hook_id": plan.endpoint,
        "delivery_ids": [f["delivery_id"] for f in found],
        "deliveries": found,
        "without_delivery_id": missing,
    }
