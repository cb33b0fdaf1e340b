"""Chart data: probe phases split correctly, coverage rows read, charts carry the timeout line."""

from __future__ import annotations

import pandas as pd

from diagnostics.ui.charts import attempts_chart, coverage_chart, latency_chart, phase_chart, phase_rows


def test_phase_rows_split_time_to_first_byte_and_download() -> None:
    rows = phase_rows([
        {"sample": "sample 1", "dns_ms": 2.0, "connect_ms": 3.0, "tls_ms": 5.0, "ttfb_ms": 110.0, "total_ms": 130.0},
        {"sample": "sample 2", "dns_ms": None, "connect_ms": 1.0, "tls_ms": None, "ttfb_ms": None, "total_ms": 15000},
    ])
    first = dict(zip(rows[rows["sample"] == "sample 1"]["phase"], rows[rows["sample"] == "sample 1"]["ms"],
                     strict=True))
    assert first == {"dns": 2.0, "connect": 3.0, "tls": 5.0, "waiting": 100.0, "download": 20.0}
    second = dict(zip(rows[rows["sample"] == "sample 2"]["phase"], rows[rows["sample"] == "sample 2"]["ms"],
                      strict=True))
    assert second["waiting"] == 14999.0 and second["download"] == 0.0  # timed out before any byte


def test_charts_draw_the_timeout_as_a_rule() -> None:
    spec = phase_chart([{"sample": "s", "total_ms": 10.0, "ttfb_ms": 9.0}], 15000.0).to_dict()
    assert any(layer["mark"]["type"] == "rule" for layer in spec["layer"])
    assert any(row.get("timeout_ms") == 15000.0 for rows in spec["datasets"].values() for row in rows)
    series = pd.DataFrame({"bucket": pd.to_datetime(["2026-03-02T10:00Z"]), "stat": ["p95"], "ms": [120.0]})
    assert any(layer["mark"]["type"] == "rule" for layer in latency_chart(series, 15000.0).to_dict()["layer"])
    outcomes = pd.DataFrame({"bucket": pd.to_datetime(["2026-03-02T10:00Z"]), "outcome": ["success"],
                             "attempts": [3]})
    assert attempts_chart(outcomes).to_dict()["mark"]["type"] == "bar"


def test_coverage_chart_reads_the_matrix_rows() -> None:
    chart = coverage_chart([
        {"event_type": "invoice.paid", "sent": 12, "in_catalog": "yes", "success_rate": "98.5%"},
        {"event_type": "legacy.thing", "sent": "", "in_catalog": "no", "success_rate": ""},
    ])
    rows = next(iter(chart.to_dict()["datasets"].values()))
    assert rows == [
        {"event_type": "invoice.paid", "sent": 12, "in_catalog": "yes", "success_rate": 98.5},
        {"event_type": "legacy.thing", "sent": 0, "in_catalog": "no", "success_rate": None},
    ]
