"""Reading the JSON a recovery command wrote (a plan, a reconciliation) back as the next one's input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from diagnostics.errors import InputError


def read_metrics_object(path: str, key: str, what: str) -> dict[str, Any]:
    """`metrics[key]` of a `--format json` output, or the bare object; it must hold an events list."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise InputError(f"{what} file not found", file=path) from exc
    except IsADirectoryError as exc:
        raise InputError(f"{what} file is a folder", file=path) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a {what} JSON file ({exc})", file=path) from exc
    found = data.get("metrics", {}).get(key, data) if isinstance(data, dict) else None
    if not isinstance(found, dict) or not isinstance(found.get("events"), list) or not found.get("endpoint"):
        raise InputError(f"not a {what} JSON file (no metrics.{key} with endpoint and events)", file=path)
    return found
