"""Endpoint probe: send test events the way the sender would, with phase timings drawn against
the timeout window, and the live signature-enforcement check when the secret is known."""

from __future__ import annotations

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.pipeline.case import record_part_run
from diagnostics.pipeline.probe import probe_endpoint
from diagnostics.profiles import all_profiles
from diagnostics.ui import state
from diagnostics.ui.charts import phase_chart
from diagnostics.ui.components import plain, show_error, show_findings, show_tables

RESULT_KEY = "probe-outcome"
SAVED_KEY = "probe-saved"


def _probe(url: str, profile_name: str, samples: int, secret: str | None) -> Outcome:
    config = state.config()
    profile = config.profile(profile_name)
    with st.status("Probing…", expanded=True) as status:
        outcome = probe_endpoint(
            url, config=config, profile=profile, samples=samples, secret=secret,
            progress=lambda message: status.write(plain(message, 160)),
        )
        status.update(label="Probe finished", state="complete", expanded=False)
    return outcome


def main() -> None:
    st.title("Endpoint probe")
    st.caption("Sends clearly labelled test events through the SSRF guard; private addresses are refused "
               "unless allowlisted (Settings).")
    config = state.config()
    case = state.current_case()
    state.drop_results_of_another_case(RESULT_KEY, SAVED_KEY)  # another case's results are not this one's
    demo = state.demo()
    if demo is not None and demo.example_urls:
        with st.expander("Sandbox endpoints to try"):
            for label, url in demo.example_urls.items():
                st.text(f"{label}: {url}")
    with st.form("probe-form"):
        url = st.text_input("Endpoint URL", value=case.endpoint_url if case else "", key="probe-url")
        left, middle, right = st.columns(3)
        profiles = [p.name for p in all_profiles(config.ours)]
        profile_name = left.selectbox("Sender profile", profiles, key="probe-profile",
                                      index=profiles.index(case.profile) if case and case.profile in profiles else 0)
        samples = middle.number_input("Samples", min_value=1, max_value=10, value=3, key="probe-samples")
        secret_input = right.text_input("Signing secret (optional, never stored)", type="password",
                                        key="probe-secret")
        submitted = st.form_submit_button("Probe", type="primary", key="probe-run")
    if submitted:
        st.session_state.pop(SAVED_KEY, None)
        secret = secret_input or state.secret()
        try:
            state.keep_results_for_open_case(RESULT_KEY, _probe(url, profile_name, int(samples), secret))
            if case is not None:
                run = record_part_run(case.id, st.session_state[RESULT_KEY], kind="probe", config=config,
                                      store=state.store(), secret=secret, profile=profile_name)
                st.session_state[SAVED_KEY] = f"Saved as run #{run.id} of case #{case.id}"
        except InputError as exc:
            st.session_state.pop(RESULT_KEY, None)  # no earlier endpoint's results under this error
            show_error(exc, "The probe did not run: ")
    outcome: Outcome | None = st.session_state.get(RESULT_KEY)
    if outcome is None:
        return
    if st.session_state.get(SAVED_KEY):
        st.success(st.session_state[SAVED_KEY], icon=":material/save:")
    st.caption(plain(f"Results for {outcome.subject}", 300))
    phases = outcome.metrics.get("phases") or []
    timeout_ms = float(outcome.metrics.get("timeout_ms") or config.profile(profile_name).timeout_s * 1000)
    st.subheader("Phase timings against the timeout window")
    if phases:
        st.altair_chart(phase_chart(phases, timeout_ms), width="stretch")
        st.caption(f"Red line: the sender gives up after {timeout_ms / 1000:g} s.")
    else:
        st.caption("No request got far enough to time its phases.")
    st.subheader("Findings")
    show_findings(outcome.findings)
    show_tables(outcome.tables)


if __name__ == "__main__":
    main()
