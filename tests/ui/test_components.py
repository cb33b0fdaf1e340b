"""The shared renderers: tables on every page are safe to download as CSV into a spreadsheet."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from diagnostics.ui.components import spreadsheet_safe

UI = Path(__file__).resolve().parents[2] / "diagnostics" / "ui"
HOSTILE = ["=HYPERLINK(\"https://evil.example\",\"fix\")", "+SUM(A1:A9)", "-2+3", "@SUM(1)", "\tcmd", "\rcmd"]


def test_hostile_text_cells_cannot_become_formulas() -> None:
    frame = spreadsheet_safe([{"error": text, "=col": text, "status": 500, "delta": -2} for text in HOSTILE])
    assert list(frame.columns) == ["error", "'=col", "status", "delta"]
    for column in ("error", "'=col"):
        assert all(cell.startswith("'") for cell in frame[column])
    assert frame["status"].tolist() == [500] * len(HOSTILE) and frame["delta"].tolist() == [-2] * len(HOSTILE)


def test_a_dataframe_given_is_not_changed_in_place() -> None:
    original = pd.DataFrame({"reason": ["=1+1", "fine"]})
    assert spreadsheet_safe(original)["reason"].tolist() == ["'=1+1", "fine"]
    assert original["reason"].tolist() == ["=1+1", "fine"]


def test_no_page_shows_a_table_except_through_the_safe_renderer() -> None:
    """Streamlit's "Download as CSV" writes cells raw, so st.dataframe is called in one place only."""
    callers = [
        str(path.relative_to(UI))
        for path in sorted(UI.rglob("*.py"))
        if path.name != "components.py" and re.search(r"\bst\.(dataframe|data_editor|table)\(", path.read_text())
    ]
    assert callers == []
