"""Initial schema: cases, runs, findings, reports, redeliveries.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ticket", sa.String(200), nullable=False, server_default=""),
        sa.Column("customer", sa.String(200), nullable=False, server_default=""),
        sa.Column("endpoint_url", sa.Text, nullable=False, server_default=""),
        sa.Column("profile", sa.String(50), nullable=False, server_default="ours"),
        sa.Column("log_source", sa.Text, nullable=False, server_default=""),
        sa.Column("captured_request", sa.JSON, nullable=True),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_cases_ticket", "cases", ["ticket"])
    op.create_index("ix_cases_customer", "cases", ["customer"])
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("kinds", sa.JSON, nullable=False),
        sa.Column("secret_fingerprint", sa.String(200), nullable=False, server_default=""),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("metrics", sa.JSON, nullable=False),
    )
    op.create_index("ix_runs_case_id", "runs", ["case_id"])
    op.create_table(
        "findings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False, server_default=""),
        sa.Column("data", sa.JSON, nullable=False),
    )
    op.create_index("ix_findings_run_id", "findings", ["run_id"])
    op.create_index("ix_findings_code", "findings", ["code"])
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("format", sa.String(20), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
    )
    op.create_index("ix_reports_run_id", "reports", ["run_id"])
    op.create_table(
        "redeliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("duration_ms", sa.Float, nullable=True),
        sa.Column("response_excerpt", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_redeliveries_case_id", "redeliveries", ["case_id"])


def downgrade() -> None:
    for table in ("redeliveries", "reports", "findings", "runs", "cases"):
        op.drop_table(table)
