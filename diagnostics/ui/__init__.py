"""The Streamlit faces of the library: pages call diagnostics functions and render components.

`pages/` holds one script per page (run by `st.navigation` from app.py); `components.py` the
shared renderers (findings, downloads, messages); `state.py` the per-process resources (config,
case store) and the per-session state (current case, the in-memory secret).
"""
