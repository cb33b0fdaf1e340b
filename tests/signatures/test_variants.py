"""Template and URL variants the debugger walks."""

from __future__ import annotations

from diagnostics.signatures import Headers
from diagnostics.signatures.templates import template_variants
from diagnostics.signatures.urls import url_variants


def test_templates_start_closest_to_canonical_and_exclude_it() -> None:
    variants = template_variants("{id}.{timestamp}.{body}", ["id", "timestamp", "body"])
    templates = [t for t, _ in variants]
    assert "{id}.{timestamp}.{body}" not in templates
    assert templates[0] in ("{id}:{timestamp}:{body}", "{id}{timestamp}{body}")
    assert "{timestamp}.{body}" in templates and "{body}" in templates
    assert "without the id" in dict(variants)["{timestamp}.{body}"]


def test_url_variants_cover_proxy_port_slash_and_query() -> None:
    found = dict(url_variants("http://example.com/hook?x=1", Headers({"X-Forwarded-Proto": "https"})))
    assert "https://example.com/hook?x=1" in found
    assert "http://example.com:80/hook?x=1" in found
    assert "http://example.com/hook/?x=1" in found
    assert "http://example.com/hook" in found
    assert "http://example.com/hook?x=1" not in found
