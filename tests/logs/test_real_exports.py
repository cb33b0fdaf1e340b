"""Exports as the platforms really write them (fixtures: build_api_exports.py, shapes checked in
test_api_shapes.py): unanswered Convoy attempts, `gh api --paginate`, platform error texts and
codes, the ids needed to act, delivery details with payloads, and detection that explains itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from diagnostics.errors import InputError
from diagnostics.findings import Status
from diagnostics.logs import load_attempts
from diagnostics.logs.detect import SAMPLE_RECORDS, detect_format
from diagnostics.logs.taxonomy import HOOKDECK_ERROR_CODES, classify_error_text, hookdeck_error_kind
from diagnostics.pipeline.logs import analyze_logs

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def values(series) -> list:  # type: ignore[no-untyped-def]
    return [None if v is None or v != v else v for v in series.tolist()]  # NaN -> None


def test_convoy_attempts_without_an_answer_are_detected_and_kept() -> None:
    assert detect_format(fixture("convoy_unanswered.json")) == ("convoy", "json")
    alone = load_attempts([fixture("convoy_unanswered.json")])
    assert alone.problem_total == 0 and alone.row_count == 11
    frame = alone.to_pandas()
    assert frame["status_code"].isna().all()
    assert sorted(set(frame["error"])) == ["connection_refused", "dns", "timeout"]
    both = load_attempts([fixture("convoy_attempts.json"), fixture("convoy_unanswered.json")])
    assert both.problem_total == 0 and both.row_count == 50 + 11
    assert both.formats == {fixture("convoy_attempts.json"): "convoy", fixture("convoy_unanswered.json"): "convoy"}


@pytest.mark.parametrize("name", ["github_paginate.json", "github_paginate_slurp.json"])
def test_gh_api_paginate_output_imports_like_the_plain_array(name: str) -> None:
    assert detect_format(fixture(name)) == ("github", "json")
    pages = load_attempts([fixture(name)])
    plain = load_attempts([fixture("github_deliveries.json")])
    assert pages.problem_total == 0
    left, right = pages.to_pandas(), plain.to_pandas()
    for column in ("event_id", "attempted_at", "status_code", "error", "attempt_id"):
        assert values(left[column]) == values(right[column]), column
    # Lines still point into the file: the 21st record starts on the second page.
    with open(fixture(name)) as fh:
        text = fh.read()
    line = int(pages.conn.execute("SELECT min(seq & ((1::BIGINT << 40) - 1)) FROM attempts WHERE attempt_id = "
                                  "'90020'").fetchone()[0])
    assert text.splitlines()[line - 1].strip() == "{" and '"id": 90020' in text.splitlines()[line]


def test_a_bad_page_in_gh_paginate_output_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "deliveries.json"
    path.write_text('[{"guid": "a", "delivered_at": "2026-03-02T00:00:00Z", "redelivery": false}]\n[{"guid": }]\n')
    with pytest.raises(InputError, match=r"deliveries.json, line 2, column \d+: invalid JSON"):
        load_attempts([str(path)])


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("error making request: client error (Connect)", "connection_refused"),
        ("error making request: client error (SendRequest)", "connection_reset"),
        ("error making request: error trying to connect: tcp connect error", "connection_refused"),
        ("error making request: connection closed before message completed", "connection_reset"),
        ("error making request: operation timed out", "timeout"),
        ("error resolving name: failed to lookup address information", "dns"),
    ],
)
def test_svix_error_texts_are_classified(text: str, kind: str) -> None:
    assert classify_error_text(text) == kind


def test_every_hookdeck_error_code_has_a_kind() -> None:
    frame = load_attempts([fixture("hookdeck_error_codes.json")]).to_pandas()
    assert len(frame) == 22
    codes = [json.loads(ids)["event_id"] for ids in frame["native_ids"]]
    assert len(set(codes)) == 22
    models = json.loads(Path(fixture("hookdeck_error_codes.json")).read_text())["models"]
    for model in models:
        assert model["error_code"] in HOOKDECK_ERROR_CODES, model["error_code"]
    kinds = {m["error_code"]: hookdeck_error_kind(m["error_code"]) for m in models}
    assert kinds["CANCELLED"] == kinds["TTL_EXPIRED"] == kinds["BULK_RETRY_CANCELLED"] == "blocked"
    assert kinds["CLI_UNAVAILABLE"] == "connection_refused"
    assert [k for k, v in kinds.items() if v == "other"] == ["UNKNOWN"]
    imported = dict(zip(frame["event_id"], frame["error"], strict=True))
    by_event = {m["event_id"]: kinds[m["error_code"]] for m in models}
    assert imported == by_event


def test_ids_needed_to_act_are_kept() -> None:
    svix = load_attempts([fixture("svix_attempts.json")]).to_pandas()
    assert svix["attempt_id"].str.match(r"^atmpt_[A-Za-z0-9]{27}$").all()
    assert json.loads(svix["native_ids"][0])["msg_id"] == svix["event_id"][0]
    github = load_attempts([fixture("github_deliveries.json")]).to_pandas()
    assert json.loads(github["native_ids"][0])["delivery_id"] == 90000  # what the redeliver call takes
    assert github["attempt_id"][0] == "90000"
    hookdeck = load_attempts([fixture("hookdeck_error_codes.json")]).to_pandas()
    bulk = {json.loads(ids).get("bulk_retry_id") for ids in hookdeck["native_ids"]} - {None}
    assert "bch_0001" in bulk
    convoy = load_attempts([fixture("convoy_attempts.json")]).to_pandas()
    assert set(convoy["remote_address"]) == {"203.0.113.7"}
    assert convoy["payload_version"].isna().all()  # api_version is Convoy's own version
    retry_after = convoy[convoy["status_code"] == 500]["response_headers"].map(json.loads)
    assert {h["Retry-After"] for h in retry_after} == {"120"}
    assert json.loads(convoy["native_ids"][0])["project_id"] == "01HPROJECT"


def test_github_delivery_details_keep_payloads_headers_and_throttling() -> None:
    frame = load_attempts([fixture("github_delivery_details.json")]).to_pandas()
    assert frame["payload"].notna().all()
    assert json.loads(frame["payload"][0])["action"] == "opened"
    busy = frame[frame["status_code"] == 503].iloc[0]
    assert json.loads(busy["response_headers"])["Retry-After"] == "120"
    assert busy["response_body"] == "busy"
    assert str(busy["throttled_at"]).startswith("2026-03-02 05:00:02")
    unanswered = frame[frame["status_code"].isna()].iloc[0]
    assert unanswered["error"] == "timeout" and values(frame[frame["status_code"].isna()]["response_body"]) == [None]


def test_old_canonical_files_without_the_new_columns_still_import() -> None:
    frame = load_attempts([fixture("svix_attempts.canonical.csv")]).to_pandas()
    assert len(frame) == 50
    assert frame[["attempt_id", "native_ids", "response_headers", "remote_address", "throttled_at"]].isna().all().all()


def test_detection_reads_past_an_ambiguous_first_record(tmp_path: Path) -> None:
    records = json.loads(Path(fixture("svix_attempts.json")).read_text())["data"]
    cut = {k: v for k, v in records[0].items() if k != "responseStatusCode"}  # a record trimmed by a tool
    path = tmp_path / "attempts.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [cut, *records[1:]]) + "\n")
    assert detect_format(str(path)) == ("svix", "json")
    many = tmp_path / "many.json"
    filler = [{"note": i} for i in range(SAMPLE_RECORDS)]
    many.write_text(json.dumps(filler + records))
    assert detect_format(str(many)) == ("canonical", "json")  # beyond the sample: not guessed


def test_a_file_detected_as_nothing_says_what_it_looked_like(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    path.write_text(json.dumps([{"msg_id": "d1", "requested_at": "2026-03-02T00:00:00Z", "http_status": "200"}]))
    with pytest.raises(InputError) as caught:
        load_attempts([str(path)])
    message = str(caught.value)
    assert "\n" not in message
    assert "Convoy (has msg_id; lacks endpoint_id)" in message
    assert "not canonical either (lacks event_id, endpoint, attempted_at)" in message
    none = tmp_path / "none.json"
    none.write_text(json.dumps([{"a": 1}]))
    with pytest.raises(InputError, match="shares no identifying field with Svix, Hookdeck, Convoy or GitHub"):
        load_attempts([str(none)])


def test_delivery_details_are_analyzed_with_their_payloads() -> None:
    outcome = analyze_logs([fixture("github_delivery_details.json")])
    order = next(f for f in outcome.findings if f.code == "out-of-order-delivery")
    assert order.status is not Status.ERROR  # not "the log has no payloads"
