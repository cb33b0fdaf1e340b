"""run_coverage and payload_diff end to end: planted gaps found exactly, real GitHub drift named."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pyarrow.compute as pc
import pytest
import sqlalchemy as sa

from diagnostics.catalog import load_catalog
from diagnostics.errors import InputError
from diagnostics.findings import Outcome, Status
from diagnostics.logs.generate import EVENT_TYPES, EXHAUSTING_TYPE, PAYLOAD_VERSIONS, generate_log
from diagnostics.pipeline.coverage import payload_diff, run_coverage
from diagnostics.report import render
from tests.fixtures.coverage.planted import START, build
from tests.support.shared import GITHUB_WEBHOOKS as GITHUB

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "coverage"
DEMO_CATALOG = Path(__file__).resolve().parents[2] / "diagnostics" / "demo_data" / "catalog.yaml"
needs_github = pytest.mark.skipif(not GITHUB.is_dir(), reason="GitHub webhook data not present")


def by_code(outcome: Outcome, code: str) -> list:
    return [f for f in outcome.findings if f.code == code]


def one(outcome: Outcome, code: str):
    found = by_code(outcome, code)
    assert len(found) == 1, [f.title for f in found]
    return found[0]


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    log = build()
    path = log.write_jsonl(tmp_path_factory.mktemp("planted") / "log.jsonl")
    outcome = run_coverage(catalog=FIXTURES / "catalog.yaml", subscriptions=FIXTURES / "subscriptions.csv",
                           logs=[str(path)])
    return log, path, outcome


def test_planted_coverage_gaps_are_found_exactly(planted) -> None:
    log, _, outcome = planted
    truth = log.truth
    assert {r["event_type"] for r in one(outcome, "event-type-never-sent").samples} == truth["never_sent"]
    assert {r["event_type"] for r in one(outcome, "event-type-uncatalogued").samples} == truth["uncatalogued"]
    thin = one(outcome, "thin-payload")
    assert {r["event_type"] for r in thin.samples} == truth["thin"]
    never = one(outcome, "subscribed-never-delivered")
    got = {(r["endpoint"], r["event_type"]): r["reason"] for r in never.samples}
    assert set(got) == set(truth["never_delivered"])
    for key, fragment in truth["never_delivered"].items():
        assert fragment in got[key]
    lacking = one(outcome, "resource-without-events")
    assert [(r["resource"], r["lacks"]) for r in lacking.samples] == [("order", truth["lacking_lifecycle"]["order"])]
    assert outcome.exit_code == 1


def test_planted_versions_and_breaking_changes(planted) -> None:
    log, _, outcome = planted
    truth = log.truth
    in_flight = by_code(outcome, "payload-versions-in-flight")
    assert {f.subject for f in in_flight} == truth["versions_in_flight"]
    for finding in in_flight:
        assert {r["endpoint"]: r["pinned_version"] for r in finding.samples} == truth["pinned_behind"]
    # One finding for the v1 -> v2 change, listing both types and what each basis saw
    [change] = by_code(outcome, "breaking-payload-change")
    evidence = change.evidence_dict()
    assert change.subject == "invoice.created, invoice.paid" and evidence["compared"] == "v1 → v2"
    assert evidence["basis"] == "catalog schemas; logged payloads" and evidence["event types affected"] == 2
    seen: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for row in change.samples:
        seen.setdefault((row["basis"], row["event_type"]), set()).add((row["change"], row["field"]))
    for event_type in ("invoice.created", "invoice.paid"):
        assert seen["catalog schemas", event_type] == {("removed", truth["removed_in_v2"]),
                                                       ("added", truth["added_in_v2"])}
    assert seen["logged payloads", "invoice.created"] == {("removed", "data.memo"), ("added", "data.tax")}
    # The string amounts planted in three v2 invoice.paid payloads also show as a type change.
    assert seen["logged payloads", "invoice.paid"] == {("removed", "data.memo"), ("added", "data.tax"),
                                                       ("type-changed", "data.amount")}
    assert [r["breaking"] for r in change.samples] == sorted((r["breaking"] for r in change.samples), reverse=True)


def test_planted_schema_violations_say_which_field_how_often_since_when(planted) -> None:
    log, _, outcome = planted
    violation = one(outcome, "payload-schema-violation")
    assert violation.status is Status.FAIL
    [row] = violation.samples
    assert (row["event_type"], row["version"], row["field"], row["problem"]) == ("invoice.paid", "v2", "data.amount",
                                                                                 "wrong type")
    assert row["payloads"] == log.truth["bad_amount_payloads"]
    assert row["first_seen"] == log.truth["bad_amount_first_seen"].isoformat()


def test_matrix_and_metrics(planted) -> None:
    log, _, outcome = planted
    rows = {r["event_type"]: r for r in outcome.tables["coverage"]}
    paid_rows = [r for r in log.rows if r["event_type"] == "invoice.paid"]
    deliveries = {(r["event_id"], r["endpoint"]) for r in paid_rows}
    ok = {(r["event_id"], r["endpoint"]) for r in paid_rows if r["status_code"] == 200}
    paid = rows["invoice.paid"]
    assert paid["sent"] == len(deliveries)
    assert paid["success_rate"] == f"{len(ok) * 100 / len(deliveries):.1f}%"
    assert paid["versions_sent"] == "v1, v2" and paid["schema_violations"] == 3
    assert rows["payout.created"]["payload_design"] == "thin"
    assert rows["invoice.voided"]["in_catalog"] == "no"
    assert rows["customer.deleted"]["sent"] == 0
    assert outcome.metrics["attempts"] == len(log.rows)
    assert outcome.metrics["per_type"]["invoice.paid"]["sent"] == len(deliveries)


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "html"])
def test_every_format_carries_the_matrix(planted, fmt: str) -> None:
    _, _, outcome = planted
    text = render(outcome, fmt)
    assert "payout.created" in text and "invoice.voided" in text
    if fmt == "json":
        data = json.loads(text)
        assert {r["event_type"] for r in data["metrics"]["tables"]["coverage"]} >= {"invoice.paid", "payout.created"}


def test_window_is_pushed_to_the_log(planted) -> None:
    log, path, _ = planted
    until = START + timedelta(hours=12)
    outcome = run_coverage(catalog=FIXTURES / "catalog.yaml", logs=[str(path)], since=START.isoformat(),
                           until=until.isoformat())
    assert outcome.metrics["attempts"] == sum(1 for r in log.rows if START <= r["attempted_at"] < until)


def _sql_rows(log) -> list[tuple]:
    return [(r["event_id"], r["event_type"], r["endpoint"], r["url"], r["attempt"], r["attempted_at"], r["status_code"],
             r["error"], r["duration_ms"], r["trigger"], r["payload"], r["payload_version"]) for r in log.rows]


COLUMNS = ["event_id", "event_type", "endpoint", "url", "attempt", "attempted_at", "status_code", "error",
           "duration_ms", "trigger", "payload", "payload_version"]
CREATE = ("CREATE TABLE delivery_attempts (event_id TEXT, event_type TEXT, endpoint TEXT, url TEXT, attempt INTEGER, "
          "attempted_at {ts}, status_code INTEGER, error TEXT, duration_ms REAL, trigger TEXT, payload TEXT, "
          "payload_version TEXT)")


def _without_percentiles(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("p95_ms", "median_payload_bytes")} for r in rows]


def test_sql_log_source_aggregated_in_place_and_imported(planted, tmp_path: Path) -> None:
    log, _, file_outcome = planted
    db = tmp_path / "attempts.db"
    with sqlite3.connect(db) as conn:
        conn.execute(CREATE.format(ts="TEXT"))
        rows = [(*r[:5], r[5].strftime("%Y-%m-%dT%H:%M:%S+00:00"), *r[6:]) for r in _sql_rows(log)]
        conn.executemany("INSERT INTO delivery_attempts VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    kwargs = {"catalog": FIXTURES / "catalog.yaml", "subscriptions": FIXTURES / "subscriptions.csv",
              "logs": [f"sqlite:///{db}"], "log_options": {"table": "delivery_attempts"}}
    imported = run_coverage(**kwargs, pushdown=False)
    assert imported.tables["coverage"] == file_outcome.tables["coverage"]
    assert sorted(f.title for f in imported.findings) == sorted(f.title for f in file_outcome.findings)
    in_place = run_coverage(**kwargs)
    assert in_place.metrics["aggregated_in"] == "the source database"
    assert any("GROUP BY" in q for q in in_place.metrics["source_queries"])
    # SQLite has no percentile function: everything but p95 and the median size matches.
    assert _without_percentiles(in_place.tables["coverage"]) == _without_percentiles(file_outcome.tables["coverage"])
    assert sorted(f.title for f in in_place.findings) == sorted(f.title for f in file_outcome.findings)


@pytest.mark.postgres
def test_postgres_log_source_aggregated_in_place(planted, postgres_url: str) -> None:
    log, _, file_outcome = planted
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS delivery_attempts"))
        conn.execute(sa.text(CREATE.format(ts="TIMESTAMPTZ").replace("REAL", "DOUBLE PRECISION")))
        table = sa.table("delivery_attempts", *[sa.column(c) for c in COLUMNS])
        conn.execute(sa.insert(table), [dict(zip(COLUMNS, row, strict=True)) for row in _sql_rows(log)])
    engine.dispose()
    outcome = run_coverage(catalog=FIXTURES / "catalog.yaml", subscriptions=FIXTURES / "subscriptions.csv",
                           logs=[postgres_url], log_options={"table": "delivery_attempts"},
                           since=START.isoformat())
    assert outcome.metrics["aggregated_in"] == "the source database"
    assert any("percentile_cont" in q and "WHERE" in q for q in outcome.metrics["source_queries"])
    assert outcome.tables["coverage"] == file_outcome.tables["coverage"]
    assert sorted(f.title for f in outcome.findings) == sorted(f.title for f in file_outcome.findings)


def test_generated_log_with_the_demo_catalog(tmp_path: Path) -> None:
    generated = generate_log(seed=11, attempts=3000)
    path = generated.write(tmp_path / "log.parquet")
    outcome = run_coverage(catalog=DEMO_CATALOG, logs=[str(path)])
    sent = set(generated.table["event_type"].to_pylist())
    assert sent <= {*EVENT_TYPES, EXHAUSTING_TYPE}
    never = {r["event_type"] for r in one(outcome, "event-type-never-sent").samples}
    assert never == {"customer.deleted", "invoice.voided"}  # planted in the demo catalog, not in the generator
    assert one(outcome, "event-type-uncatalogued").status is Status.PASS
    assert one(outcome, "payload-schema-violation").status is Status.PASS
    # Which types went out in both versions, and which endpoints' latest delivery was the old one,
    # recomputed from the generated rows.
    rows = generated.table.select(["event_type", "endpoint", "attempted_at", "payload_version"]).to_pylist()
    both = {t for t in sent if {r["payload_version"] for r in rows if r["event_type"] == t} == set(PAYLOAD_VERSIONS)}
    in_flight = {f.subject: f for f in by_code(outcome, "payload-versions-in-flight")}
    assert set(in_flight) == both
    old = PAYLOAD_VERSIONS[1]
    for event_type, finding in in_flight.items():
        latest: dict[str, tuple] = {}
        for r in rows:
            if r["event_type"] == event_type:
                key = (r["attempted_at"], r["payload_version"] == PAYLOAD_VERSIONS[0])
                if r["endpoint"] not in latest or key > latest[r["endpoint"]][0]:
                    latest[r["endpoint"]] = (key, r["payload_version"])
        assert {r["endpoint"] for r in finding.samples} == {e for e, (_, v) in latest.items() if v == old}
    assert pc.count_distinct(generated.table["payload_version"]).as_py() == 2


@needs_github
def test_github_catalog_with_github_examples() -> None:
    outcome = run_coverage(catalog=GITHUB / "payload-schemas/api.github.com",
                           payloads=GITHUB / "payload-examples/api.github.com")
    never = one(outcome, "event-type-never-sent")
    assert never.evidence_dict()["types with samples"] == 163 and never.sample_total == 224 - 163
    # `repository_dispatch/payload.json` has a custom action; its catalogued type is `repository_dispatch`.
    assert one(outcome, "event-type-uncatalogued").status is Status.PASS
    violation = one(outcome, "payload-schema-violation")
    assert [(r["event_type"], r["field"]) for r in violation.samples] == [
        ("deployment_status.created", "deployment_status.environment_url")]
    assert outcome.metrics["payload_samples"] == 273
    push = next(r for r in outcome.tables["coverage"] if r["event_type"] == "push")
    sizes = sorted(len(json.dumps(json.loads(p.read_text()), separators=(",", ":"), ensure_ascii=False).encode())
                   for p in (GITHUB / "payload-examples/api.github.com/push").glob("*.json"))
    assert push["sent"] == len(sizes) == 6
    assert push["median_payload_bytes"] == f"{(sizes[2] + sizes[3]) / 2:,.0f}"


@needs_github
def test_ghes_examples_against_the_github_com_catalog() -> None:
    outcome = run_coverage(catalog=GITHUB / "payload-schemas/api.github.com",
                           payloads=GITHUB / "payload-examples/ghes-35")
    extra = {r["event_type"] for r in one(outcome, "event-type-uncatalogued").samples}
    # Checked by hand: GHES 3.5 still sends the old integration_installation events and
    # content_reference, which github.com's schemas no longer describe.
    assert {"integration_installation.created", "integration_installation_repositories.added",
            "content_reference.created"} <= extra


@needs_github
def test_payload_diff_between_ghes_and_github_com() -> None:
    outcome = payload_diff(GITHUB / "payload-examples/ghes-35", GITHUB / "payload-examples/api.github.com")
    findings = {f.subject: f for f in outcome.findings if f.code == "breaking-payload-change"}
    installation = {(r["change"], r["field"]) for r in findings["installation.deleted"].samples}
    assert ("type-changed", "installation.created_at") in installation
    assert ("removed", "enterprise") in installation
    assert findings["installation.deleted"].status is Status.FAIL
    unmatched = findings["event types"]
    assert unmatched.status is Status.NOT_APPLICABLE  # samples on one side only say nothing about removal
    assert outcome.metrics["types_compared"] > 50


def test_payload_diff_of_two_schema_files() -> None:
    outcome = payload_diff(FIXTURES / "schemas/invoice.v1.json", FIXTURES / "schemas/invoice.v2.json")
    [finding] = outcome.findings
    assert finding.status is Status.FAIL
    assert {(r["change"], r["field"]) for r in outcome.tables["changes"]} == {("removed", "data.memo"),
                                                                              ("added", "data.tax")}
    additive = payload_diff(FIXTURES / "schemas/invoice.v2.json", FIXTURES / "schemas/invoice.v2.json")
    assert additive.exit_code == 0 and [f.status for f in additive.findings] == [Status.PASS]


def test_payload_diff_of_catalogs_finds_removed_types(tmp_path: Path) -> None:
    smaller = tmp_path / "catalog.yaml"
    smaller.write_text("event_types:\n  - invoice.paid\n  - order.created\n")
    outcome = payload_diff(FIXTURES / "catalog.yaml", smaller)
    removed = next(f for f in outcome.findings if f.subject == "event types")
    assert removed.status is Status.FAIL
    assert {r["event_type"] for r in removed.samples} == set(load_catalog(FIXTURES / "catalog.yaml").names) - {
        "invoice.paid", "order.created"}
    # invoice.paid has schemas in the old catalog only: nothing to compare, not a removal.
    assert next(f for f in outcome.findings if f.subject == "event types without a schema").samples == (
        {"event_type": "invoice.paid"}, {"event_type": "order.created"})


def test_schema_against_samples(tmp_path: Path) -> None:
    (tmp_path / "invoice.paid.json").write_text(json.dumps(
        {"id": "e", "type": "invoice.paid", "data": {"id": "in", "amount": "12", "currency": "eur", "status": "paid"}}))
    outcome = payload_diff(FIXTURES / "schemas/invoice.v2.json", tmp_path)
    kinds = {(r["change"], r["field"]) for r in outcome.tables["changes"]}
    assert ("type-changed", "data.amount") in kinds and ("removed", "data.tax") in kinds


def test_unusable_inputs_raise_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="event catalog not found"):
        run_coverage(catalog=tmp_path / "none.yaml")
    with pytest.raises(InputError, match="not an ISO 8601 time"):
        run_coverage(catalog=FIXTURES / "catalog.yaml", since="yesterday")
    with pytest.raises(InputError, match="not found"):
        payload_diff(tmp_path / "a", tmp_path / "b")


def test_catalog_only_run(tmp_path: Path) -> None:
    outcome = run_coverage(catalog=FIXTURES / "catalog.yaml")
    assert one(outcome, "event-type-never-sent").status is Status.NOT_APPLICABLE
    assert {r["event_type"] for r in outcome.tables["coverage"]} == {
        "invoice.created", "invoice.paid", "customer.created", "customer.updated", "customer.deleted",
        "order.created", "order.updated", "payout.created", "report.generated"}


@needs_github
def test_payload_diff_of_two_schema_folders(tmp_path: Path) -> None:
    import shutil

    source = GITHUB / "payload-schemas/api.github.com"
    old, new = tmp_path / "old", tmp_path / "new"
    for side in (old, new):
        for folder in ("common", "issues", "push"):
            shutil.copytree(source / folder, side / folder)
    # In the new copy, push events no longer carry the pusher.
    push = json.loads((new / "push/event.schema.json").read_text())
    del push["properties"]["pusher"]
    push["required"].remove("pusher")
    (new / "push/event.schema.json").write_text(json.dumps(push))
    outcome = payload_diff(old, new)
    failed = {f.subject: f for f in outcome.findings if f.status is Status.FAIL}
    assert set(failed) == {"push"}
    assert {(r["change"], r["field"]) for r in failed["push"].samples} == {("removed", "pusher")}
    unchanged = next(f for f in outcome.findings if f.status is Status.PASS)
    assert unchanged.sample_total == len(list((old / "issues").glob("*.json")))
    assert outcome.metrics["basis"] == "JSON Schemas"
