"""Settings: every configuration value with where it comes from, the sender profiles, the sources."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from diagnostics.config import mask_passwords
from diagnostics.profiles import all_profiles
from diagnostics.ui import state
from diagnostics.ui.components import show_dataframe


def _masked(value: object) -> str:
    """Passwords in URLs are never shown (`Config.flat` rows are masked already)."""
    return str(mask_passwords(value))


def main() -> None:
    config = state.config()
    st.title("Settings")
    st.caption(
        f"Read from {config.path or 'defaults only'}; environment variables override the file. "
        "Change them in diagnostics.toml or the environment and restart the app."
    )
    rows = [{**row, "value": _masked(row["value"])} for row in config.flat()]
    st.subheader("Configuration")
    show_dataframe(pd.DataFrame(rows), hide_index=True)

    st.subheader("Sender profiles")
    profiles = [
        {
            "profile": p.name,
            "label": p.label,
            "timeout (s)": p.timeout_s,
            "attempts": p.max_attempts,
            "retries": p.retry_note,
            "auto-disable": p.disable_rule.description if p.disable_rule else "never",
            "scheme": p.scheme,
            "source": "diagnostics.toml" if p.name == "ours" else "built in",
        }
        for p in all_profiles(config.ours)
    ]
    show_dataframe(pd.DataFrame(profiles), hide_index=True)

    st.subheader("Network allowlist and data sources")
    allow = config.get("network", "allow") or []
    sources = [
        {"what": "allowlist (private addresses that may be probed)", "value": ", ".join(allow) or "(empty)",
         "source": config.source_of("network", "allow")},
        {"what": "case store", "value": _masked(config.database_url),
         "source": config.source_of("database", "url") if config.get("database", "url")
         else "default: SQLite file in the workspace"},
        {"what": "delivery-log SQL source", "value": _masked(config.get("logs", "url") or "") or "(none)",
         "source": config.source_of("logs", "url")},
        {"what": "workspace", "value": str(config.workspace), "source": config.source_of("workspace", "path")},
    ]
    show_dataframe(pd.DataFrame(sources), hide_index=True)


if __name__ == "__main__":
    main()
