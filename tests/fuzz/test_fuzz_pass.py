"""The CI fuzz pass (issue 14): the importers, the captured-request debugger and the ticket reader
fed mutated real inputs for a bounded number of examples. Every input ends in an Outcome that
renders in every format, or in a one-line InputError; nothing else, within a time and memory bound.

Examples start from the platforms' real export shapes (tests/fixtures/logs) and real signed
requests, then break them the way files break: keys dropped, values of the wrong type, text
truncated mid-record, bytes flipped, wrapped in gzip. `WD_FUZZ_EXAMPLES` raises the count for a
longer local run; CI runs the default.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnostics.errors import InputError
from diagnostics.intake import intake_outcome
from diagnostics.pipeline.logs import analyze_logs
from diagnostics.pipeline.signature import debug_signature
from diagnostics.report import render
from diagnostics.signatures import sign_headers

EXAMPLES = int(os.environ.get("WD_FUZZ_EXAMPLES", "80"))
TIME_BOUND_S = 10.0
MEMORY_BOUND = 256 * 1024 * 1024
LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
EXPORTS = sorted(p for p in LOGS.glob("*.json"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


def bounded(run: Callable[[], Any]) -> Any:
    """Run one example; it must end in a value or a one-line InputError, within the bounds."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        return run()
    except InputError as exc:
        assert "\n" not in str(exc), str(exc)
        return exc
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert time.monotonic() - started < TIME_BOUND_S
        assert peak < MEMORY_BOUND


def analyzed_and_rendered(path: Path) -> Any:
    """The whole `analyze` path: import, every analyzer, and the report in every format."""
    outcome = analyze_logs([str(path)])
    for fmt in ("text", "json", "markdown", "html"):
        render(outcome, fmt)
    return outcome


def _mutate(value: Any, draw: st.DrawFn) -> Any:
    """A copy of a JSON value with keys dropped or given values of the wrong type, at any depth."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            action = draw(st.integers(0, 9))
            if action == 0:
                continue
            out[key] = draw(json_values) if action == 1 else _mutate(item, draw)
        return out
    if isinstance(value, list):
        return [_mutate(item, draw) for item in value if draw(st.integers(0, 7))]
    return value


@st.composite
def broken_exports(draw: st.DrawFn) -> tuple[str, bytes]:
    source = draw(st.sampled_from(EXPORTS))
    text = source.read_text()
    with contextlib.suppress(json.JSONDecodeError):  # `gh api --paginate` output stays text
        text = json.dumps(_mutate(json.loads(text), draw))
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    data = text.encode()
    if data and draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(data) - 1))
        data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1 :]
    suffix = ".json"
    if draw(st.integers(0, 4)) == 0:
        data, suffix = gzip.compress(data), ".json.gz"
    return suffix, data


@st.composite
def broken_csvs(draw: st.DrawFn) -> bytes:
    source = draw(st.sampled_from(sorted(LOGS.glob("*.canonical.csv"))))
    lines = source.read_text().splitlines()
    kept = [lines[0]] + [line for line in lines[1:] if draw(st.integers(0, 3))]
    noise = st.text(alphabet=st.characters(codec="utf-8"), max_size=30)
    for _ in range(draw(st.integers(0, 3))):
        kept.insert(draw(st.integers(0, len(kept))), draw(noise))
    return ("\n".join(kept) + draw(st.sampled_from(["", "\n", "\r\n"]))).encode()


@FUZZ
@given(export=broken_exports())
def test_fuzz_platform_exports(tmp_path_factory: pytest.TempPathFactory, export: tuple[str, bytes]) -> None:
    suffix, data = export
    path = tmp_path_factory.mktemp("fuzz") / f"export{suffix}"
    path.write_bytes(data)
    bounded(lambda: analyzed_and_rendered(path))


@FUZZ
@given(data=broken_csvs())
def test_fuzz_canonical_csv(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "log.csv"
    path.write_bytes(data)
    bounded(lambda: analyzed_and_rendered(path))


BODY = b'{"type":"invoice.paid","id":"evt_1","data":{"amount":100}}'
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@st.composite
def broken_requests(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str]], list[str]]:
    scheme = draw(st.sampled_from(["standard-webhooks", "stripe", "github", "shopify", "slack"]))
    signed = sign_headers(scheme, SECRET, BODY, timestamp=1_700_000_000, msg_id="msg_1")
    headers = [(name, value) for name, value in signed.items() if draw(st.integers(0, 5))]
    hostile = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60)
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([n for n, _ in signed.items()] + ["x-signature", "webhook-id"]))
        headers.append((name, draw(hostile)))
    body = draw(st.sampled_from([BODY, b"", BODY[: len(BODY) // 2]]) | st.binary(max_size=200))
    secrets = draw(st.lists(st.sampled_from([SECRET, "", "whsec_", "wrong"]) | hostile, min_size=1, max_size=3))
    return body, headers, secrets


@FUZZ
@given(request=broken_requests())
def test_fuzz_captured_requests(request: tuple[bytes, list[tuple[str, str]], list[str]]) -> None:
    body, headers, secrets = request
    bounded(lambda: [render(debug_signature(body, headers, secrets, now=1_700_000_010), fmt)
                     for fmt in ("text", "json", "markdown", "html")])


@FUZZ
@given(text=st.text(max_size=3000) | st.sampled_from(["POST /hook HTTP/1.1\r\nHost: a\r\n\r\n{", "Date: \n" * 50]))
def test_fuzz_ticket_text(text: str) -> None:
    bounded(lambda: render(intake_outcome(text), "json"))
