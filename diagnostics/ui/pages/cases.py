"""Cases: every case with its runs; search, reopen, rerun, and compare two runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from diagnostics.cases import RunRecord
from diagnostics.errors import InputError
from diagnostics.pipeline.case import Case, compare_runs, run_case, run_summary
from diagnostics.ui import state
from diagnostics.ui.components import download_buttons, plain, show_dataframe, show_error, show_findings, show_reply

TRIAGE_PAGE = "diagnostics/ui/pages/triage.py"
FLASH_KEY = "cases-flash"


def _show_new_run(case_id: int, run_id: int, earlier: list[int]) -> None:
    """After a rerun, every run picker of the page points at the new run (the older one beside it)."""
    state.open_case(case_id, run_id)
    st.session_state["cases-show-run"] = run_id
    st.session_state["compare-newer"] = run_id
    if earlier:
        st.session_state["compare-older"] = earlier[0]
    skipped = "" if state.secret() else " No signing secret is held, so checks that need it were not rechecked."
    st.session_state[FLASH_KEY] = f"Run #{run_id} of case #{case_id} is done and shown below.{skipped}"


def _run_label(run: RunRecord) -> str:
    return f"Run #{run.id} · {run.started_at:%Y-%m-%d %H:%M} · {', '.join(run.kinds)}"


def _compare(runs: list[RunRecord]) -> None:
    st.subheader("Compare two runs")
    if len(runs) < 2:
        st.caption("Rerun the case to compare: two runs are needed.")
        return
    by_id = {run.id: run for run in runs}
    ids = list(by_id)
    for key, default in (("compare-older", ids[1]), ("compare-newer", ids[0])):
        if st.session_state.get(key) not in by_id:  # another case, or a run just added
            st.session_state[key] = default
    left, right = st.columns(2)
    older_id = left.selectbox("Older run", ids, format_func=lambda i: _run_label(by_id[i]), key="compare-older")
    newer_id = right.selectbox("Newer run", ids, format_func=lambda i: _run_label(by_id[i]), key="compare-newer")
    comparison = compare_runs(by_id[older_id], by_id[newer_id])
    fixed, new, remaining, unchecked = st.columns(4)
    fixed.metric("Fixed", len(comparison.fixed))
    new.metric("New", len(comparison.new))
    remaining.metric("Still open", len(comparison.remaining))
    unchecked.metric("Not rechecked", len(comparison.unchecked),
                     help="The check that found it did not run in the newer run (no secret, no log given).")
    for title, findings in (("Fixed", comparison.fixed), ("New", comparison.new),
                            ("Still open", comparison.remaining), ("Not rechecked", comparison.unchecked)):
        if findings:
            st.caption(title)
            show_dataframe(
                pd.DataFrame([{"code": f.code, "status": f.status.value, "title": f.title, "subject": f.subject}
                              for f in findings]),
                hide_index=True,
            )


def main() -> None:
    st.title("Cases")
    store = state.store()
    query = st.text_input("Search by ticket, customer or endpoint", key="cases-search")
    cases = store.find_cases(query)
    if not cases:
        st.info("No cases match." if query else "No cases yet. Start one on the Triage page.")
        return
    show_dataframe(
        pd.DataFrame([
            {"case": c.id, "ticket": c.ticket, "customer": c.customer, "endpoint": c.endpoint_url,
             "profile": c.profile, "runs": c.run_count, "updated": f"{c.updated_at:%Y-%m-%d %H:%M}"}
            for c in cases
        ]),
        hide_index=True,
    )
    by_id = {c.id: c for c in cases}
    current = state.current_case()
    default = list(by_id).index(current.id) if current and current.id in by_id else 0
    case_id = st.selectbox(
        "Case", list(by_id), index=default, key="cases-pick",
        format_func=lambda i: f"#{i} · {by_id[i].ticket or 'no ticket'} · {by_id[i].customer or 'no customer'}",
    )
    record = by_id[case_id]
    runs = store.list_runs(record.id)

    open_col, rerun_col = st.columns(2)
    if open_col.button("Reopen in Triage", key="cases-reopen", type="primary"):
        state.open_case(record.id, runs[0].id if runs else None)
        st.switch_page(TRIAGE_PAGE)
    if rerun_col.button("Rerun now", key="cases-rerun"):
        try:
            config = state.config()
            case = Case.from_record(record, config, secret=state.secret())
            with st.status("Running the case again…", expanded=False) as status:
                result = run_case(case, config, lambda message, _f: status.update(label=plain(message, 120)),
                                  store=store)
                status.update(label="Done", state="complete")
        except InputError as exc:
            show_error(exc, "The case could not be rerun: ")
        else:
            _show_new_run(record.id, result.run_id, [r.id for r in runs])
            st.rerun()  # the table's run count, "Show run" and the comparison move to the new run
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash:
        st.success(plain(flash, 300), icon=":material/replay:")

    st.subheader(f"Runs of case #{record.id}")
    if not runs:
        st.caption("This case has not been run yet.")
        return
    show_dataframe(pd.DataFrame([run_summary(run) for run in runs]), hide_index=True)
    run_by_id = {run.id: run for run in runs}
    if st.session_state.get("cases-show-run") not in run_by_id:
        st.session_state.pop("cases-show-run", None)
    shown = st.selectbox("Show run", list(run_by_id), key="cases-show-run",
                         format_func=lambda i: _run_label(run_by_id[i]))
    run = run_by_id[shown]
    download_buttons(run.reports, f"case-{record.id}-run-{run.id}", key=f"cases-dl-{run.id}")
    with st.expander("Reply to paste into the ticket"):
        show_reply(run.reports, key=f"cases-{run.id}")
    show_findings(run.findings)
    _compare(runs)

    redeliveries = store.list_redeliveries(record.id)
    if redeliveries:
        st.subheader("Redeliveries")
        show_dataframe(pd.DataFrame([
            {"sent": f"{r.sent_at:%Y-%m-%d %H:%M:%S}", "mode": r.mode, "event": r.event_id, "url": r.url,
             "status": r.status_code, "error": r.error, "ms": r.duration_ms, "response": r.response_excerpt[:200]}
            for r in redeliveries
        ]), hide_index=True)


if __name__ == "__main__":
    main()
