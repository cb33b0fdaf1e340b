from __future__ import annotations

import pytest

from diagnostics.checks.status import check_status, meaning
from diagnostics.profiles import BUILTIN_PROFILES
from tests.checks.factories import exchange, observations

SVIX = BUILTIN_PROFILES["svix"]


@pytest.mark.parametrize(
    ("status", "word"),
    [(401, "signature"), (403, "forbidden"), (404, "path"), (413, "too large"), (429, "rate limiting"),
     (500, "crashed"), (418, "refused"), (599, "server failed")],
)
def test_meanings(status: int, word: str) -> None:
    assert word in meaning(status)


def test_error_status_with_intermittent_note() -> None:
    obs = observations(exchange(status_code=503, reason_phrase="Service Unavailable", body_snippet="down"),
                       exchange("sample 2"), exchange("sample 3", status_code=503))
    finding = check_status(obs, SVIX)[0]
    assert finding.code == "http-error-status"
    assert finding.title == "The endpoint answers 503 Service Unavailable"
    assert "2 of 3 samples" in finding.summary and "The other 1 succeeded" in finding.summary
    assert finding.evidence_dict()["Response body (start)"] == "down"


def test_2xx_gives_nothing() -> None:
    assert check_status(observations(exchange(status_code=204)), SVIX) == []
