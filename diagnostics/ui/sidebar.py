"""The sidebar every page shares: the current case, the secret held for this session, the store."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.engine import make_url

from diagnostics.findings import fingerprint_secret
from diagnostics.ui import state
from diagnostics.ui.components import plain


def render() -> None:
    with st.sidebar:
        case = state.current_case()
        if case is None:
            st.caption("No case open. Start one on Triage or reopen one on Cases.")
        else:
            st.markdown(f"**Case #{case.id}** · {plain(case.ticket or 'no ticket', 60)}")
            if case.customer:
                st.text(case.customer[:80])
            if case.endpoint_url:
                st.text(case.endpoint_url[:120])
            if st.button("Close case", key="sidebar-close-case"):
                state.open_case(None)
                state.set_secret(None)
                st.rerun()
        held = state.secret()
        if held:
            st.caption("Signing secret held in this session only (never stored)")
            st.text(fingerprint_secret(held))
            if st.button("Forget secret", key="sidebar-forget-secret"):
                state.set_secret(None)
                st.rerun()
        url = make_url(state.config().database_url)
        st.caption(f"Case store: {url.get_backend_name()} · workspace {state.config().workspace.name}")
