from __future__ import annotations

from diagnostics.checks import judge_probe
from diagnostics.checks.url import check_url_scheme, check_url_valid
from diagnostics.findings import Status
from diagnostics.profiles import BUILTIN_PROFILES
from tests.checks.factories import exchange, failed, observations, session

SVIX = BUILTIN_PROFILES["svix"]


def test_healthy_endpoint_passes_with_timings() -> None:
    obs = observations(exchange(tls=session(90)), exchange("sample 2", total_ms=300.0))
    findings = judge_probe(obs, SVIX)
    assert [f.code for f in findings] == ["endpoint-healthy"]
    evidence = findings[0].evidence_dict()
    assert evidence["Slowest total"] == "300 ms" and evidence["TLS"].startswith("TLSv1.3")


def test_any_failure_withholds_the_pass() -> None:
    findings = judge_probe(observations(exchange(), failed("connection_reset", "sample 2")), SVIX)
    assert "endpoint-healthy" not in {f.code for f in findings}


def test_warnings_keep_the_pass() -> None:
    obs = observations(exchange(total_ms=9000.0))
    codes = {f.code: f.status for f in judge_probe(obs, SVIX)}
    assert codes == {"slow-response": Status.WARN, "endpoint-healthy": Status.PASS}


def test_url_checks() -> None:
    assert [f.code for f in check_url_valid("ftp://example.com/x")] == ["url-invalid"]
    assert [f.code for f in check_url_valid("https://")] == ["url-invalid"]
    assert [f.code for f in check_url_valid("   ")] == ["url-invalid"]
    assert check_url_valid("https://example.com/hook") == []
    warn = check_url_scheme("http://example.com/hook")[0]
    assert warn.code == "url-not-https" and warn.evidence_dict()["Suggested URL"] == "https://example.com/hook"
