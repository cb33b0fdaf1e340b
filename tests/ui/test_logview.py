"""Log view queries against a small loaded log with known rows: filters, search, series, replay."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from diagnostics.logs import AttemptTable, load_attempts, schema
from diagnostics.ui import logview

ROWS = [
    # event_id, endpoint, event_type, attempted_at, status_code, error, duration_ms, response_body, payload
    ("evt_1", "ep_a", "invoice.paid", "2026-03-02T10:00:00Z", 200, "", 100.0, "ok", '{"id":"evt_1"}'),
    ("evt_2", "ep_a", "invoice.paid", "2026-03-02T10:30:00Z", "", "timeout", 15000.0, "", '{"id":"evt_2"}'),
    ("evt_2", "ep_a", "invoice.paid", "2026-03-02T11:10:00Z", 200, "", 300.0, "ok", '{"id":"evt_2"}'),
    ("evt_3", "ep_b", "customer.created", "2026-03-02T11:20:00Z", 401, "", 20.0, "<script>x</script>", ""),
    ("evt_4", "ep_b", "customer.created", "2026-03-03T09:00:00Z", 301, "", 10.0, "moved", '{"id":"evt_4"}'),
]


@pytest.fixture(params=["csv", "parquet"])
def attempts(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AttemptTable:
    lines = ["event_id,endpoint,event_type,attempted_at,status_code,error,duration_ms,response_body,payload"]
    for row in ROWS:
        cells = ['"' + str(v).replace('"', '""') + '"' if v != "" else "" for v in row]
        lines.append(",".join(cells))
    path = tmp_path / "log.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if request.param == "parquet":  # read in place: the attempts table is a view on its connection
        monkeypatch.setattr(schema, "KEEP_IN_PLACE_ABOVE_ROWS", 0)
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        csv_path, path = path, tmp_path / "log.parquet"
        pq.write_table(pacsv.read_csv(csv_path), path)
    table = load_attempts([str(path)])
    yield table
    table.conn.close()


def test_no_filter_browses_everything_newest_first(attempts: AttemptTable) -> None:
    rows, total = logview.browse(attempts, logview.LogFilters())
    assert total == 5
    assert list(rows["event_id"]) == ["evt_4", "evt_3", "evt_2", "evt_2", "evt_1"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (logview.LogFilters(endpoints=("ep_b",)), {"evt_3", "evt_4"}),
        (logview.LogFilters(outcomes=("no response",)), {"evt_2"}),
        (logview.LogFilters(outcomes=("redirect", "http error")), {"evt_3", "evt_4"}),
        (logview.LogFilters(errors=("timeout",)), {"evt_2"}),
        (logview.LogFilters(event_types=("invoice.paid",), outcomes=("success",)), {"evt_1", "evt_2"}),
        (logview.LogFilters(search="SCRIPT"), {"evt_3"}),
        (logview.LogFilters(search="401"), {"evt_3"}),
        (logview.LogFilters(search="evt_4"), {"evt_4"}),
        (logview.LogFilters(since=datetime(2026, 3, 3, tzinfo=UTC)), {"evt_4"}),
        (logview.LogFilters(until=datetime(2026, 3, 2, 10, 15, tzinfo=UTC)), {"evt_1"}),
    ],
)
def test_filters_select_exactly_the_matching_attempts(
    attempts: AttemptTable, filters: logview.LogFilters, expected: set[str]
) -> None:
    rows, total = logview.browse(attempts, filters)
    assert set(rows["event_id"]) == expected and total == len(rows)


def test_typed_text_is_a_parameter_not_sql(attempts: AttemptTable) -> None:
    rows, total = logview.browse(attempts, logview.LogFilters(search="' OR 1=1 --", endpoints=("x' OR '1'='1",)))
    assert total == 0 and rows.empty
    assert logview.browse(attempts, logview.LogFilters())[1] == 5  # the table is untouched


def test_series_count_outcomes_per_hour_and_latency(attempts: AttemptTable) -> None:
    series = logview.attempt_series(attempts, logview.LogFilters(endpoints=("ep_a",)), "hour")
    counts = {(str(b.hour), o): n for b, o, n in series.itertuples(index=False)}
    assert counts == {("10", "success"): 1, ("10", "no response"): 1, ("11", "success"): 1}
    latency = logview.latency_series(attempts, logview.LogFilters(endpoints=("ep_a",)), "day")
    p95 = latency[latency["stat"] == "p95"]["ms"].iloc[0]
    assert 300.0 < p95 <= 15000.0


def test_facets_bucket_and_replay_lookup(attempts: AttemptTable) -> None:
    facets = logview.facets(attempts)
    assert facets["endpoint"] == ["ep_a", "ep_b"] and facets["error"] == ["timeout"]
    assert logview.suggested_bucket(attempts, logview.LogFilters()) == "hour"
    assert logview.suggested_bucket(attempts, logview.LogFilters(endpoints=("ep_a",))) == "minute"
    assert logview.event_for_replay(attempts, "evt_2")[0] == '{"id":"evt_2"}'
    assert logview.event_for_replay(attempts, "evt_3")[0] is None  # no payload logged
    assert logview.event_for_replay(attempts, "missing") == (None, None)


def test_queries_see_the_same_rows_once_materialized(attempts: AttemptTable) -> None:
    before = logview.browse(attempts, logview.LogFilters())[0]
    attempts.materialize()  # what the app does once per loaded log
    after = logview.browse(attempts, logview.LogFilters())[0]
    assert before.equals(after) and attempts.row_count == 5
