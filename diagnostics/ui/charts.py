"""Chart builders (Altair) shared by the pages: data in, chart out, no Streamlit calls.

Each takes rows or frames the library produced (probe metrics, log series) and draws them
against the number that matters: the sender's timeout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

PHASES = ("dns", "connect", "tls", "waiting", "download")
OUTCOME_COLORS = {
    "success": "#1a7f37",
    "http error": "#cf222e",
    "no response": "#8250df",
    "redirect": "#bf8700",
}


def _ms(row: Mapping[str, Any], key: str) -> float:
    value = row.get(key)
    return float(value) if isinstance(value, (int, float)) else 0.0


def phase_rows(phases: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per sample, the time spent in each phase (ttfb and total are measured from the start)."""
    rows = []
    for sample in phases:
        dns, connect, tls = _ms(sample, "dns_ms"), _ms(sample, "connect_ms"), _ms(sample, "tls_ms")
        ttfb, total = _ms(sample, "ttfb_ms"), _ms(sample, "total_ms")
        spans = {
            "dns": dns,
            "connect": connect,
            "tls": tls,
            "waiting": max(0.0, (ttfb or total) - dns - connect - tls),
            "download": max(0.0, total - ttfb) if ttfb else 0.0,
        }
        for order, phase in enumerate(PHASES):
            rows.append({"sample": str(sample.get("sample", "")), "phase": phase, "order": order,
                         "ms": round(spans[phase], 2)})
    return pd.DataFrame(rows, columns=["sample", "phase", "order", "ms"])


def phase_chart(phases: Sequence[Mapping[str, Any]], timeout_ms: float) -> alt.LayerChart:
    """Stacked phase timings per sample, with the timeout window as a red rule."""
    data = phase_rows(phases)
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("sum(ms):Q", title="milliseconds"),
            y=alt.Y("sample:N", title=None),
            color=alt.Color("phase:N", sort=list(PHASES)),
            order=alt.Order("order:Q"),
            tooltip=["sample", "phase", "ms"],
        )
    )
    rule = alt.Chart(pd.DataFrame({"timeout_ms": [timeout_ms]})).mark_rule(color="#cf222e", strokeWidth=2).encode(
        x="timeout_ms:Q", tooltip=[alt.Tooltip("timeout_ms:Q", title="timeout (ms)")]
    )
    return alt.layer(bars, rule).properties(height=max(80, 40 * max(1, data["sample"].nunique())))


def attempts_chart(series: pd.DataFrame) -> alt.Chart:
    """Attempts per time bucket, stacked by outcome (columns: bucket, outcome, attempts)."""
    return (
        alt.Chart(series)
        .mark_bar()
        .encode(
            x=alt.X("bucket:T", title=None),
            y=alt.Y("attempts:Q", title="attempts"),
            color=alt.Color("outcome:N", scale=alt.Scale(domain=list(OUTCOME_COLORS),
                                                         range=list(OUTCOME_COLORS.values()))),
            tooltip=["bucket:T", "outcome:N", "attempts:Q"],
        )
        .properties(height=260)
    )


def latency_chart(series: pd.DataFrame, timeout_ms: float) -> alt.LayerChart:
    """p50/p95 latency per time bucket (columns: bucket, stat, ms) against the timeout line."""
    lines = (
        alt.Chart(series)
        .mark_line(point=True)
        .encode(x=alt.X("bucket:T", title=None), y=alt.Y("ms:Q", title="milliseconds"), color="stat:N",
                tooltip=["bucket:T", "stat:N", "ms:Q"])
    )
    rule = alt.Chart(pd.DataFrame({"timeout_ms": [timeout_ms]})).mark_rule(color="#cf222e", strokeDash=[6, 4]).encode(
        y="timeout_ms:Q", tooltip=[alt.Tooltip("timeout_ms:Q", title="timeout (ms)")]
    )
    return alt.layer(lines, rule).properties(height=260)


def _percent(value: Any) -> float | None:
    text = str(value or "").rstrip("%").strip()
    try:
        return float(text)
    except ValueError:
        return None


def coverage_chart(matrix: Sequence[Mapping[str, Any]]) -> alt.Chart:
    """Deliveries per event type, coloured by whether the catalog knows the type, with success rate."""
    data = pd.DataFrame(
        [
            {
                "event_type": str(row.get("event_type", "")),
                "sent": int(row.get("sent") or 0),
                "in_catalog": str(row.get("in_catalog", "")),
                "success_rate": _percent(row.get("success_rate")),
            }
            for row in matrix
        ],
        columns=["event_type", "sent", "in_catalog", "success_rate"],
    )
    return (
        alt.Chart(data)
        .mark_bar()
        .encode(
            y=alt.Y("event_type:N", sort="-x", title=None),
            x=alt.X("sent:Q", title="deliveries in the log"),
            color=alt.Color("in_catalog:N", title="in catalog"),
            tooltip=["event_type", "sent", "in_catalog", alt.Tooltip("success_rate:Q", title="success %")],
        )
        .properties(height=max(120, 22 * len(data)))
    )
