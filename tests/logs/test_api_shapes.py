"""Every platform fixture has the exact shape of the platform's published API description.

Svix, Hookdeck and Convoy fixtures are validated against their OpenAPI documents in
../shared/data/platform-apis (OpenAPI 3.0 semantics: `nullable`, `$ref` into components).
GitHub's description is not stored (13 MB); its `hook-delivery-item` and `hook-delivery`
required fields are written out in tests/support/openapi.py from github/rest-api-description.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_schema_validator import OAS30Validator

from tests.support.openapi import GITHUB_DETAIL, GITHUB_ITEM, component, description

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "logs"
CONVOY_ATTEMPTS = "/v1/projects/{projectID}/eventdeliveries/{eventDeliveryID}/deliveryattempts"

def convoy_attempt_list() -> dict[str, Any]:
    doc = description("convoy-openapi3.json")
    schema = doc["paths"][CONVOY_ATTEMPTS]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


def github_pages(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": {"type": "array", "items": schema}}


SHAPES = {
    "svix_attempts.json": lambda: component("svix-openapi.json", "ListResponse_MessageAttemptOut_"),
    "svix_page_partial.json": lambda: component("svix-openapi.json", "ListResponse_MessageAttemptOut_"),
    "hookdeck_attempts.json": lambda: component("hookdeck-openapi.json", "EventAttemptPaginatedResult"),
    "hookdeck_page_partial.json": lambda: component("hookdeck-openapi.json", "EventAttemptPaginatedResult"),
    "hookdeck_error_codes.json": lambda: component("hookdeck-openapi.json", "EventAttemptPaginatedResult"),
    "convoy_attempts.json": convoy_attempt_list,
    "convoy_unanswered.json": convoy_attempt_list,
    "github_deliveries.json": lambda: {"type": "array", "items": GITHUB_ITEM},
    "github_paginate_slurp.json": lambda: github_pages(GITHUB_ITEM),
    "github_delivery_details.json": lambda: {"type": "array", "items": GITHUB_DETAIL},
}


def documents(name: str) -> Any:
    """The file's JSON document; `gh api --paginate` output (arrays back to back) as a list of pages."""
    text = (FIXTURES / name).read_text()
    decoder, pos, pages = json.JSONDecoder(), 0, []
    while pos < len(text.rstrip()):
        page, pos = decoder.raw_decode(text, pos)
        pages.append(page)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return pages[0] if len(pages) == 1 else pages


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_fixture_matches_the_platform_description(name: str) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in OAS30Validator(SHAPES[name]()).iter_errors(documents(name))]
    assert errors == [], errors[:5]


def test_gh_paginate_output_is_pages_of_delivery_items() -> None:
    pages = documents("github_paginate.json")
    assert len(pages) > 1
    assert not list(OAS30Validator(github_pages(GITHUB_ITEM)).iter_errors(pages))
    assert [r for page in pages for r in page] == json.loads((FIXTURES / "github_deliveries.json").read_text())


def test_every_listed_hookdeck_error_code_is_in_the_fixture() -> None:
    listed = description("hookdeck-openapi.json")["components"]["schemas"]["AttemptErrorCodes"]["enum"]
    models = json.loads((FIXTURES / "hookdeck_error_codes.json").read_text())["models"]
    assert sorted(m["error_code"] for m in models) == sorted(listed)


def test_convoy_unanswered_attempts_omit_what_convoy_omits() -> None:
    for record in json.loads((FIXTURES / "convoy_unanswered.json").read_text())["data"]:
        assert not {"http_status", "response_data", "status"} & record.keys()


def test_a_wrong_shape_is_caught() -> None:
    """The validation has teeth: a Svix attempt id of the wrong shape fails it."""
    page = json.loads((FIXTURES / "svix_attempts.json").read_text())
    page["data"][0]["id"] = "attempt-1"
    assert list(OAS30Validator(component("svix-openapi.json", "ListResponse_MessageAttemptOut_")).iter_errors(page))
