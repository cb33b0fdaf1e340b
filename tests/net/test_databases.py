"""Issue 14: database URLs from a case, an upload or the app pass the guard's address policy;
a URL the operator gives is used as given; a malformed URL is a one-line error."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.engine import make_url

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.net.databases import (
    OPERATOR,
    DatabasePolicy,
    check_database_url,
    parse_database_url,
    shown_url,
)
from diagnostics.pipeline.case import Case, LogSource, run_case
from tests.net.loopback import clean_config, counting_listener
from tests.net.test_guard_limits import settled_count


def untrusted(config: Config | None = None) -> DatabasePolicy:
    return DatabasePolicy.untrusted(config or clean_config(), "case")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u:p@169.254.169.254:5432/db",  # the case: the metadata address
        "postgresql+psycopg://u@127.0.0.1:5432/db",
        "postgresql://u@[::1]:5432/db",
        "mysql://u@10.0.0.7/db",
        "postgresql://u@localhost./db",
        "postgresql://u@[::ffff:169.254.169.254]/db",
    ],
)
def test_untrusted_urls_to_denied_addresses_are_refused_before_any_packet(url: str) -> None:
    with pytest.raises(InputError) as info:
        check_database_url(url, untrusted())
    message = str(info.value)
    assert "(from the case) is refused" in message and ":p@" not in message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("sqlite:////etc/passwd", "file database"),
        ("duckdb:///x.duckdb", "file database"),
        ("postgresql://u@/db", "no network host"),
        ("postgresql://u@/db?host=/var/run/postgresql", "query key(s) host"),
        ("postgresql://u@db.example.com/db?hostaddr=169.254.169.254", "query key(s) hostaddr"),
        ("postgresql://u@db.example.com/db?service=internal", "query key(s) service"),
        ("postgresql://u@h1,h2/db", "one host"),
        ("postgresql://u@a..b.test/db", "empty label"),
    ],
)
def test_untrusted_urls_that_could_redirect_the_connection_are_refused(url: str, why: str) -> None:
    with pytest.raises(InputError, match=re.escape(why)):
        check_database_url(url, untrusted())


def test_the_operator_allowlist_for_databases_admits_exactly_what_it_names() -> None:
    config = clean_config()
    config.override("databases", "allow", ["127.0.0.1/32"], source="test")
    parsed, pin = check_database_url("postgresql+psycopg://u@127.0.0.1:5432/db", untrusted(config))
    assert parsed.host == "127.0.0.1" and pin == {"hostaddr": "127.0.0.1"}
    with pytest.raises(InputError, match=re.escape("6to4 form of 127.0.0.1")):
        check_database_url("postgresql://u@[2002:7f00:1::1]/db", untrusted(config))
    # The probe allowlist ([network] allow) does not open databases.
    probe_only = clean_config()
    probe_only.override("network", "allow", ["127.0.0.1/32"], source="test")
    with pytest.raises(InputError, match="loopback"):
        check_database_url("postgresql://u@127.0.0.1/db", untrusted(probe_only))


def test_the_operator_deny_list_applies_to_databases() -> None:
    config = clean_config()
    config.override("databases", "allow", ["127.0.0.0/8"], source="test")
    config.override("network", "deny", ["127.0.0.9"], source="test")
    with pytest.raises(InputError, match="operator deny list"):
        check_database_url("postgresql://u@127.0.0.9/db", untrusted(config))


def test_the_operator_choice_and_the_configured_url_are_used_as_given() -> None:
    assert check_database_url("postgresql://u:p@169.254.169.254/db", OPERATOR) == (
        make_url("postgresql://u:p@169.254.169.254/db"), {})
    config = clean_config()
    config.override("logs", "url", "postgresql://u@127.0.0.1:5432/logs", source="test")
    assert check_database_url("postgresql://u@127.0.0.1:5432/logs", untrusted(config))[1] == {}
    with pytest.raises(InputError):
        check_database_url("postgresql://u@127.0.0.1:5432/other", untrusted(config))


def test_a_case_with_a_database_url_to_a_loopback_listener_sends_nothing() -> None:
    """End to end: the case's logs part refuses the URL; the listener sees no connection."""
    with counting_listener() as listener:
        url = f"postgresql+psycopg://u:secretpw@127.0.0.1:{listener.port}/db"
        case = Case(ticket="ZD-SSRF", log_source=LogSource(url=url, table="t"))
        result = run_case(case, clean_config())
        assert settled_count(listener, 0) == 0
    finding = next(f for f in result.outcome.findings if f.code == "case-input-unusable")
    assert "is refused" in finding.summary and "loopback" in finding.summary
    assert "secretpw" not in finding.summary


def test_allowlisted_database_is_dialled_at_the_pinned_address() -> None:
    with counting_listener() as listener:
        config = clean_config()
        config.override("databases", "allow", ["127.0.0.1/32"], source="test")
        url = f"postgresql+psycopg://u@127.0.0.1:{listener.port}/db?connect_timeout=2"
        with pytest.raises(InputError, match="cannot read the database"):
            load_attempts([url], table="t", database_policy=untrusted(config))
        assert settled_count(listener, 1) >= 1


@pytest.mark.parametrize(
    "url", ["postgresql://u:p@h:notaport/db", ":notaport", "postgresql://u:p@h:99999999999999999999/db"]
)
def test_a_malformed_database_url_is_one_line(url: str) -> None:
    with pytest.raises(InputError) as info:
        parse_database_url(url)
    assert "\n" not in str(info.value) and ":p@" not in str(info.value)
    with pytest.raises(InputError):
        load_attempts([url] if "://" in url else [f"postgresql://{url}"], table="t")


def test_shown_url_masks_the_password_even_when_the_url_does_not_parse() -> None:
    assert shown_url("postgresql://wd:hunter2@h:notaport/db") == "postgresql://wd:***@h:notaport/db"
    assert shown_url("postgresql://wd:hunter2@h/db") == "postgresql://wd:***@h/db"
