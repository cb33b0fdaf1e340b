from __future__ import annotations

from diagnostics.checks.redirects import check_redirects
from diagnostics.findings import Status
from diagnostics.net.probe import Exchange
from diagnostics.profiles import BUILTIN_PROFILES
from tests.checks.factories import exchange, failed, observations


def redirected() -> Exchange:
    return exchange(status_code=301, headers=[("Location", "https://hooks.example.com/in/")])


def test_redirect_with_final_url() -> None:
    hop = exchange("redirect hop", url="https://hooks.example.com/in/", status_code=200)
    obs = observations(redirected(), redirect_chain=[hop])
    finding = check_redirects(obs, BUILTIN_PROFILES["stripe"])[0]
    assert finding.status is Status.FAIL
    assert finding.evidence_dict()["URL to configure instead"] == "https://hooks.example.com/in/"
    assert "Configure https://hooks.example.com/in/ instead." in finding.summary


def test_sender_that_follows_redirects_only_warns() -> None:
    finding = check_redirects(observations(redirected()), BUILTIN_PROFILES["convoy"])[0]
    assert finding.status is Status.WARN


def test_refused_hop_is_reported() -> None:
    hop = failed("blocked", label="redirect hop", url="http://127.0.0.1/", error_detail="127.0.0.1 is a loopback")
    finding = check_redirects(observations(redirected(), redirect_chain=[hop]), BUILTIN_PROFILES["svix"])[0]
    assert "failed: 127.0.0.1 is a loopback" in finding.summary


def test_no_redirect_no_finding() -> None:
    assert check_redirects(observations(exchange()), BUILTIN_PROFILES["svix"]) == []
