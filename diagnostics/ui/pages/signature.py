"""Signature lab: paste a request, see the scheme detected, the verdict, the named cause and the
fix; generate a correctly signed example for the customer."""

from __future__ import annotations

import json

import streamlit as st

from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.pipeline.case import CapturedRequest, record_part_run
from diagnostics.pipeline.signature import debug_signature
from diagnostics.signatures import scheme_formula, scheme_names, sign_headers
from diagnostics.ui import state
from diagnostics.ui.components import show_dataframe, show_error, show_findings

RESULT_KEY = "signature-outcome"
SAVED_KEY = "signature-saved"
EXAMPLE_BODY = '{"id":"evt_123","type":"invoice.paid","data":{"amount":4200,"currency":"usd"}}'


def _check(captured_text: str, secrets: list[str], scheme: str, url: str) -> Outcome:
    captured = CapturedRequest.parse(captured_text)
    config = state.config()
    options = config.get("signature", "hmac") if scheme == "hmac" else None
    return debug_signature(captured.body, dict(captured.headers), secrets, scheme=scheme, url=url or None,
                           options=options)


def _verdict(outcome: Outcome) -> None:
    metrics = outcome.metrics
    verdict = metrics.get("verdict", "")
    label = {"valid": "Valid signature", "variant": "Matches only with a change (cause named below)",
             "no-match": "No match"}.get(verdict, verdict)
    left, right = st.columns(2)
    left.metric("Verdict", label)
    right.metric("Scheme", str(metrics.get("scheme", "")))
    st.caption("Why this scheme")
    st.text(str(metrics.get("scheme_chosen_because", "")))
    st.caption("What is signed")
    st.code(str(metrics.get("formula", "")), language=None)
    if metrics.get("changes"):
        st.caption("What had to change for the signature to match")
        show_dataframe(metrics["changes"], hide_index=True)


def _generator() -> None:
    st.subheader("Generate a correctly signed example")
    st.caption("For the customer's tests: the exact headers our sender would attach to this body.")
    config = state.config()
    names = scheme_names()
    with st.form("signature-generate"):
        scheme = st.selectbox("Scheme", names, index=names.index(config.ours.scheme)
                              if config.ours.scheme in names else 0, key="sign-scheme")
        secret = st.text_input("Secret (never stored)", type="password", key="sign-secret")
        body = st.text_area("Body", value=EXAMPLE_BODY, key="sign-body")
        url = st.text_input("URL (only for schemes that sign the URL)", key="sign-url")
        submitted = st.form_submit_button("Sign", key="sign-run")
    if submitted:
        try:
            options = config.get("signature", "hmac") if scheme == "hmac" else None
            headers = sign_headers(scheme, secret or state.secret() or "", body.encode("utf-8"),
                                   url=url or None, options=options)
        except InputError as exc:
            show_error(exc, "Could not sign: ")
            return
        st.caption(scheme_formula(scheme, options))
        request = "\n".join(f"{k}: {v}" for k, v in headers.items()) + "\n\n" + body
        st.code(request, language="http")
        st.code(json.dumps(headers, indent=2), language="json")


FORM_KEYS = ("sig-request", "sig-secret", "sig-previous", "sig-url")


def _prefill_from_case() -> None:
    """The open case's captured request fills the form once (the secret never does); once that case is
    closed or another is opened, what it filled in (and any secret typed for it) is emptied."""
    case = state.current_case()
    filled_for = st.session_state.get("sig-filled-for")
    if filled_for is not None and filled_for != (case.id if case is not None else None):
        for key in (*FORM_KEYS, "sig-filled-for"):
            st.session_state.pop(key, None)
        filled_for = None
    if case is None or not case.captured_request or filled_for == case.id:
        return
    st.session_state["sig-filled-for"] = case.id
    st.session_state["sig-request"] = CapturedRequest.from_record(case.captured_request).as_text()
    st.session_state["sig-url"] = case.endpoint_url


def main() -> None:
    st.title("Signature lab")
    state.drop_results_of_another_case(RESULT_KEY, SAVED_KEY)  # a verdict on another case's request is stale
    _prefill_from_case()
    with st.form("signature-check"):
        captured_text = st.text_area("Captured request: headers, a blank line, then the body exactly as received",
                                     height=200, key="sig-request")
        left, right = st.columns(2)
        secret = left.text_input("Signing secret (never stored)", type="password", key="sig-secret")
        previous = right.text_input("Previous secret, if it was rotated (optional)", type="password",
                                    key="sig-previous")
        left, right = st.columns(2)
        scheme = left.selectbox("Scheme", ["auto", *scheme_names()], key="sig-scheme")
        url = right.text_input("URL the sender called (for URL-signing schemes)", key="sig-url")
        submitted = st.form_submit_button("Check the signature", type="primary", key="sig-run")
    if submitted:
        st.session_state.pop(SAVED_KEY, None)
        primary = secret or state.secret()
        secrets = [s for s in (primary, previous) if s]
        case = state.current_case()
        try:
            state.keep_results_for_open_case(RESULT_KEY, _check(captured_text, secrets, scheme, url))
            if case is not None:
                run = record_part_run(case.id, st.session_state[RESULT_KEY], kind="signature",
                                      config=state.config(), store=state.store(), secret=primary,
                                      other_secrets=(previous,))
                st.session_state[SAVED_KEY] = f"Saved as run #{run.id} of case #{case.id}"
        except InputError as exc:
            st.session_state.pop(RESULT_KEY, None)  # a failed check leaves no earlier verdict on screen
            st.session_state.pop(SAVED_KEY, None)
            show_error(exc, "Could not check: ")
    outcome: Outcome | None = st.session_state.get(RESULT_KEY)
    if outcome is not None:
        if st.session_state.get(SAVED_KEY):
            st.success(st.session_state[SAVED_KEY], icon=":material/save:")
        _verdict(outcome)
        show_findings(outcome.findings)
    st.divider()
    _generator()


if __name__ == "__main__":
    main()
