"""Webhook Doctor in the browser: the page router and the shared sidebar, nothing else.

Start it with `python -m diagnostics demo --serve` (the demo workspace) or
`python -m streamlit run app.py`. Every page lives in diagnostics/ui/pages/ and calls the library.
In demo mode the landing page opens on the demo case (`state.land_on_demo_case`).
"""

from __future__ import annotations

import streamlit as st

from diagnostics.ui import sidebar, state

PAGES = "diagnostics/ui/pages"

# The icon is an emoji: Streamlit draws it as an inline SVG, where a :material/...: icon would be
# fetched from fonts.gstatic.com (an internal tool requests nothing from outside hosts).
st.set_page_config(page_title="Webhook Doctor", page_icon="🩺", layout="wide")

triage = st.Page(f"{PAGES}/triage.py", title="Triage", icon=":material/medical_services:", default=True)
navigation = st.navigation(
    {
        "Support": [
            triage,
            st.Page(f"{PAGES}/probe.py", title="Endpoint probe", icon=":material/network_check:"),
            st.Page(f"{PAGES}/signature.py", title="Signature lab", icon=":material/key:"),
            st.Page(f"{PAGES}/logs.py", title="Delivery log", icon=":material/receipt_long:"),
            st.Page(f"{PAGES}/recovery.py", title="Recovery", icon=":material/replay:"),
        ],
        "Product Ops": [
            st.Page(f"{PAGES}/coverage.py", title="Coverage", icon=":material/grid_on:"),
        ],
        "Workspace": [
            st.Page(f"{PAGES}/cases.py", title="Cases", icon=":material/folder_open:"),
            st.Page(f"{PAGES}/settings.py", title="Settings", icon=":material/settings:"),
        ],
    }
)
if navigation.url_path == triage.url_path:
    state.land_on_demo_case()  # before the sidebar, which shows the open case
sidebar.render()
navigation.run()
