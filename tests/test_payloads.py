"""Payload samples: event types inferred from payload, folder and file name; bad files named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.payloads import compact_size, group_by_type, infer_event_type, load_payload_samples
from tests.support.shared import GITHUB_WEBHOOKS

GITHUB = GITHUB_WEBHOOKS / "payload-examples"
needs_github = pytest.mark.skipif(not GITHUB.is_dir(), reason="GitHub webhook data not present")


@pytest.mark.parametrize(
    ("rel", "payload", "expected"),
    [
        ("anything.json", {"type": "invoice.paid", "data": {}}, "invoice.paid"),  # Stripe / Standard Webhooks
        ("issues/opened.payload.json", {"action": "opened", "issue": {}}, "issues.opened"),  # GitHub layout
        ("push/with-new-branch.payload.json", {"ref": "refs/heads/x"}, "push"),
        ("invoice.paid.json", {"id": 1}, "invoice.paid"),
        ("invoice.paid.2.json", {"id": 1}, "invoice.paid"),
        ("ping.json", {"action": "pong"}, "ping.pong"),
        ("x/y.json", {"type": "not an event type"}, "x"),  # a free-text type is not a type name
    ],
)
def test_infer_event_type(rel: str, payload: dict, expected: str) -> None:
    assert infer_event_type(rel, payload) == expected


def test_load_folder_sorted_with_sizes_and_versions(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "created.json").write_text(json.dumps({"action": "created", "api_version": "2024-01-01"},
                                                            indent=4))
    (tmp_path / "a.updated.json").write_text('{"x": 1}')
    (tmp_path / "index.json").write_text("[]")  # a listing, skipped
    (tmp_path / "notes.txt").write_text("ignored")
    samples = load_payload_samples(tmp_path)
    assert [s.source for s in samples] == ["a.updated.json", "b/created.json"]
    assert [s.event_type for s in samples] == ["a.updated", "b.created"]
    assert samples[1].version == "2024-01-01" and samples[0].version is None
    assert samples[1].size_bytes == compact_size(samples[1].payload) < (tmp_path / "b" / "created.json").stat().st_size
    assert list(group_by_type(samples)) == ["a.updated", "b.created"]


def test_bad_json_is_named_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "ok.json").write_text("{}")
    (tmp_path / "broken.json").write_text('{\n  "a": 1,\n}')
    with pytest.raises(InputError) as info:
        load_payload_samples(tmp_path)
    assert "broken.json" in str(info.value) and info.value.line == 3 and info.value.column == 1


def test_missing_empty_and_file_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_payload_samples(tmp_path / "nope")
    with pytest.raises(InputError, match=r"no \*\.json payload files"):
        load_payload_samples(tmp_path)
    (tmp_path / "one.json").write_text("{}")
    with pytest.raises(InputError, match="expected a folder"):
        load_payload_samples(tmp_path / "one.json")
    with pytest.raises(InputError, match="more than the limit"):
        load_payload_samples(tmp_path, max_files=0)


@needs_github
def test_github_examples_infer_real_event_types() -> None:
    samples = load_payload_samples(GITHUB / "api.github.com")
    assert len(samples) == 273
    groups = group_by_type(samples)
    assert len(groups["issues.opened"]) == 4  # opened, with-empty-body, with-organization, with-transfer
    assert "push" in groups and "ping" in groups
    assert all(s.event_type for s in samples)


def test_a_sample_nested_too_deep_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nested more than") as info:
        load_payload_samples(tmp_path)
    assert info.value.file.endswith("deep.json")
