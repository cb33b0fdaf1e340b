"""Could we reach the endpoint at all: DNS, the SSRF guard, TCP, and a sane HTTP answer."""

from __future__ import annotations

from collections.abc import Callable

from diagnostics.checks.observations import SOURCE, ProbeObservations, sample_row, share
from diagnostics.error_kinds import ErrorKind
from diagnostics.findings import Finding, Severity, Status
from diagnostics.net.probe import Exchange

DNS_KINDS = {
    "no_such_name": "the name does not exist (NXDOMAIN)",
    "no_address": "the name exists but has no A or AAAA record",
    "resolver_timeout": "the DNS resolver did not answer in time",
    "resolver_error": "the DNS resolver returned an error",
}


def _with_error(observations: ProbeObservations, kind: ErrorKind) -> list[Exchange]:
    return [s for s in observations.samples if s.error == kind]


def check_reachability(observations: ProbeObservations) -> list[Finding]:
    findings: list[Finding] = []
    for builder in (_dns, _blocked, _probe_refused, _refused, _connect_timeout, _reset, _protocol, _unexpected):
        finding = builder(observations)
        if finding is not None:
            findings.append(finding)
    return findings


def _finding(
    observations: ProbeObservations,
    failed: list[Exchange],
    *,
    make: Callable[[Exchange, str], Finding],
) -> Finding | None:
    if not failed:
        return None
    return make(failed[0], share(len(failed), len(observations.samples)))


def _dns(observations: ProbeObservations) -> Finding | None:
    failed = _with_error(observations, ErrorKind.DNS)
    if not failed:
        return None
    first = failed[0]
    kind = first.dns_failure or "resolver_error"
    return Finding(
        code="dns-failure",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"The endpoint's host name {first.host} does not resolve",
        summary=(
            f"DNS lookup failed for {share(len(failed), len(observations.samples))}: {DNS_KINDS.get(kind, kind)}. "
            "Our sender cannot deliver to a name that does not resolve."
        ),
        subject=observations.url,
        evidence=(("Host", first.host), ("Failure", DNS_KINDS.get(kind, kind)), ("Resolver said", first.error_detail)),
        samples=[sample_row(s) for s in failed],
        source=SOURCE,
    )


# Refusals by our own port policy or rate limit say nothing about the endpoint's address.
OWN_LIMITS = {"port", "rate_limit"}


def _blocked_by(exchanges: list[Exchange], own_limit: bool) -> list[Exchange]:
    return [e for e in exchanges if e.error == ErrorKind.BLOCKED and (e.blocked_kind in OWN_LIMITS) == own_limit]


def _blocked(observations: ProbeObservations) -> Finding | None:
    failed = _blocked_by(observations.samples, own_limit=False)
    via_redirect = _blocked_by(observations.redirect_chain, own_limit=False)
    if not failed and not via_redirect:
        return None
    first = failed[0] if failed else via_redirect[0]
    where = "The endpoint URL points" if failed else f"The endpoint redirects to {first.url}, which points"
    return Finding(
        code="non-public-address",
        status=Status.FAIL,
        severity=Severity.HIGH,
        title=f"{where} to a non-public address",
        summary=(
            f"{first.error_detail}. Webhooks are only delivered to public internet addresses, so our sender "
            "refuses this address; no request was sent to it."
        ),
        subject=observations.url,
        evidence=(
            ("Host", first.host),
            ("Resolved addresses", first.addresses or [first.blocked_address or ""]),
            ("Refused address", first.blocked_address),
            ("Why", first.blocked_reason),
        ),
        samples=[sample_row(s) for s in failed or via_redirect],
        source=SOURCE,
    )


def _probe_refused(observations: ProbeObservations) -> Finding | None:
    """Our port policy or rate limit stopped the probe: could not check (error), not the endpoint's fault."""
    failed = _blocked_by(observations.samples, own_limit=True)
    via_redirect = _blocked_by(observations.redirect_chain, own_limit=True)
    if not failed and not via_redirect:
        return None
    first = failed[0] if failed else via_redirect[0]
    rule = "port policy" if first.blocked_kind == "port" else "rate limit"
    where = "" if failed else f" (at the redirect to {first.url})"
    return Finding(
        code="probe-refused",
        status=Status.ERROR,
        severity=Severity.MEDIUM,
        title=f"Our probe's {rule} stopped the check of {first.host} port {first.port}{where}",
        summary=(
            f"{first.error_detail[:1].upper()}{first.error_detail[1:]}. This limit belongs to Webhook Doctor, "
            "not to our sender: nothing was sent, and it says nothing about the endpoint."
        ),
        subject=observations.url,
        evidence=(
            ("Host", first.host),
            ("Port", first.port),
            ("Rule", rule),
            ("Why", first.blocked_reason),
        ),
        samples=[sample_row(s) for s in failed or via_redirect],
        source=SOURCE,
    )


def _refused(observations: ProbeObservations) -> Finding | None:
    def make(first: Exchange, how_many: str) -> Finding:
        return Finding(
            code="connection-refused",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title=f"Nothing accepts connections on {first.host} port {first.port}",
            summary=(
                f"The connection to {first.connected_address or first.host}:{first.port} was refused for {how_many}: "
                "the host is up but no server is listening on that port, or a firewall rejects us."
            ),
            subject=observations.url,
            evidence=(
                ("Host", first.host),
                ("Port", first.port),
                ("Addresses tried", first.addresses),
                ("Error", first.error_detail),
            ),
            samples=[sample_row(s) for s in _with_error(observations, ErrorKind.CONNECTION_REFUSED)],
            source=SOURCE,
        )

    return _finding(observations, _with_error(observations, ErrorKind.CONNECTION_REFUSED), make=make)


def _connect_timeout(observations: ProbeObservations) -> Finding | None:
    def make(first: Exchange, how_many: str) -> Finding:
        return Finding(
            code="connect-timeout",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title=f"Connecting to {first.host} port {first.port} timed out",
            summary=(
                f"No TCP connection could be opened for {how_many}: the host is down, unreachable, or a "
                "firewall silently drops our packets."
            ),
            subject=observations.url,
            evidence=(
                ("Host", first.host),
                ("Port", first.port),
                ("Addresses tried", first.addresses),
                ("Detail", first.error_detail),
            ),
            samples=[sample_row(s) for s in _with_error(observations, ErrorKind.CONNECT_TIMEOUT)],
            source=SOURCE,
        )

    return _finding(observations, _with_error(observations, ErrorKind.CONNECT_TIMEOUT), make=make)


def _reset(observations: ProbeObservations) -> Finding | None:
    def make(first: Exchange, how_many: str) -> Finding:
        partial = f"; {first.status_code} headers had arrived" if first.status_code else ""
        return Finding(
            code="connection-reset",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="The endpoint drops the connection before answering completely",
            summary=(
                f"The connection was reset or closed without a complete response for {how_many}{partial}. "
                "Our sender counts this as a failed delivery and retries."
            ),
            subject=observations.url,
            evidence=(
                ("Detail", first.error_detail),
                ("Status before the reset", first.status_code),
                ("Body bytes before the reset", first.body_bytes_read),
            ),
            samples=[sample_row(s) for s in _with_error(observations, ErrorKind.CONNECTION_RESET)],
            source=SOURCE,
        )

    return _finding(observations, _with_error(observations, ErrorKind.CONNECTION_RESET), make=make)


def _protocol(observations: ProbeObservations) -> Finding | None:
    def make(first: Exchange, how_many: str) -> Finding:
        return Finding(
            code="protocol-error",
            status=Status.FAIL,
            severity=Severity.HIGH,
            title="The endpoint does not answer with valid HTTP",
            summary=(
                f"The answer could not be read as an HTTP response for {how_many}: something other than a web "
                "server answers on this port, or a proxy mangles the response."
            ),
            subject=observations.url,
            evidence=(("Detail", first.error_detail[:300]), ("Port", first.port)),
            samples=[sample_row(s) for s in _with_error(observations, ErrorKind.PROTOCOL)],
            source=SOURCE,
        )

    return _finding(observations, _with_error(observations, ErrorKind.PROTOCOL), make=make)


def _unexpected(observations: ProbeObservations) -> Finding | None:
    """A network failure we could not classify: the check could not complete (error, not fail)."""

    def make(first: Exchange, how_many: str) -> Finding:
        return Finding(
            code="protocol-error",
            status=Status.ERROR,
            severity=Severity.MEDIUM,
            title="The probe stopped on an unexpected network error",
            summary=f"The exchange failed for {how_many} with an error we could not classify: {first.error_detail}",
            subject=observations.url,
            evidence=(("Detail", first.error_detail[:300]), ("Host", first.host), ("Port", first.port)),
            samples=[sample_row(s) for s in _with_error(observations, ErrorKind.OTHER)],
            source=SOURCE,
        )

    return _finding(observations, _with_error(observations, ErrorKind.OTHER), make=make)
