"""Ticket intake: what a customer's message says, read out so the agent starts from it.

`read_ticket(text)` finds, in prose, forwarded e-mails, pasted logs and stack traces: endpoint URLs,
event ids and the platform each id belongs to, times (with the time zone the customer wrote, or a
question when it is ambiguous), HTTP status codes, error strings, webhook headers and a pasted
request, the framework or language named, and the symptoms in a fixed vocabulary (`SYMPTOMS`).
From those it proposes the checks the case can run and the Triage fields to fill in. Pure text
work: nothing is sent anywhere, nothing is stored.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from diagnostics.errors import InputError
from diagnostics.findings import Outcome

MAX_TICKET_CHARS = 200_000
MAX_ITEMS = 20
SYMPTOMS = (
    "not_receiving",
    "duplicates",
    "signature_failing",
    "timeouts",
    "marked_failed_but_processed",
    "disabled_endpoint",
    "missing_event_type",
)

# --- symptoms: phrases in English, German, French and Spanish ---------------------------------
_SYMPTOM_PATTERNS: dict[str, tuple[str, ...]] = {
    "not_receiving": (
        r"(?:not|n't|never|no longer|stopped|stop) (?:been )?(?:receiv|get|gett|arriv|com)\w*",
        r"(?:haven't|have not|hasn't|didn't|did not|don't|do not) (?:\w+ )?(?:receive|get|see)\w*",
        r"\bno (?:webhooks?|events?|notifications?) (?:since|at all|are|were|arriv)",
        r"\bnever (?:arrived|came|showed up)", r"\bmissing (?:webhooks?|events?|deliveries)",
        r"nicht (?:mehr )?(?:angekommen|erhalten|empfangen)", r"keine (?:webhooks?|events?) mehr",
        r"ne (?:reçoi|recevon)\w* plus", r"n'(?:arrive|arrivent) plus", r"no (?:recibimos|llegan|recibo)",
    ),
    "duplicates": (
        r"\bduplicat\w*", r"\btwice\b", r"\b(?:two|three|multiple|several) times\b", r"more than once",
        r"\bsame (?:event|webhook|notification) \w+ (?:again|twice)", r"\bdoppelt\w*", r"\ben double\b",
        r"\bduplicad\w*",
    ),
    "signature_failing": (
        r"signature\w* (?:\w+ ){0,3}(?:fail\w*|invalid|mismatch\w*|(?:does ?n[o']t|do ?n[o']t) match|wrong|error)",
        r"(?:invalid|bad|wrong|failed|mismatched) (?:\w+ )?signature", r"verif\w* (?:\w+ ){0,2}fail\w*",
        r"No signatures found matching", r"SignatureVerification\w*", r"WebhookVerificationError",
        r"Signatur\w* (?:\w+ ){0,2}(?:ungültig|falsch|fehl\w*)", r"signature (?:invalide|incorrecte)",
        r"firma (?:inválida|no coincide)",
    ),
    "timeouts": (
        r"\btime[sd]? ?out\b", r"\btimeouts?\b", r"\bETIMEDOUT\b", r"deadline exceeded", r"\btook too long\b",
        r"\bZeitüberschreitung\b", r"délai d'attente", r"tiempo de espera",
    ),
    "marked_failed_but_processed": (
        r"(?:marked|marks?|shows?|showing|listed|flagged|says?) (?:\w+ ){0,3}(?:as )?[\"']?(?:failed|failing|failure)"
        r"[^.]{0,80}(?:but|although|even though|while)[^.]{0,80}"
        r"(?:received|processed|handled|got|200|success|arriv)",
        r"(?:received|processed|handled|got) (?:it|them|the event|the webhook)[^.\n]{0,60}"
        r"(?:but|yet)[^.\n]{0,60}(?:failed|failure|retr)",
    ),
    "disabled_endpoint": (
        r"(?:endpoint|webhook|url|subscription)\w* (?:\w+ ){0,3}(?:was |got |is |been )?"
        r"(?:disabled|deactivated|turned off|paused|suspended|removed)",
        r"\b(?:disabled|deactivated) (?:our|my|the) (?:endpoint|webhook)", r"\bdeaktiviert\b", r"\bdésactivé\w*",
        r"\bdesactivad\w*",
    ),
    "missing_event_type": (
        r"(?:not|never|n't|no|don't) (?:\w+ ){0,3}(?:receiv\w*|get\w*|see\w*) (?:\w+ ){0,2}"
        r"[a-z_]+\.[a-z_.]+ (?:events?|webhooks?)",
        r"\b[a-z_]+\.[a-z_.]+ (?:events?|webhooks?) (?:\w+ ){0,3}(?:missing|never|not)",
        r"(?:event type|topic)s? \S+ (?:\w+ ){0,3}(?:missing|never|not (?:sent|delivered|received))",
    ),
}

# --- errors: known phrases from receivers, HTTP stacks and SDKs, several languages ------------
_KNOWN_ERRORS = (
    r"No signatures found matching the expected signature for payload",
    r"Unable to extract timestamp and signatures from header", r"Timestamp outside the tolerance zone",
    r"Message timestamp too (?:old|new)", r"No matching signature found", r"Invalid signature",
    r"signature verification failed", r"ECONNREFUSED", r"ECONNRESET", r"ETIMEDOUT", r"ENOTFOUND",
    r"EPROTO", r"connection refused", r"Connection reset by peer", r"connection timed out",
    r"read timed? ?out", r"context deadline exceeded", r"x509: [^\n]{0,80}", r"certificate verify failed[^\n]{0,40}",
    r"CERTIFICATE_VERIFY_FAILED", r"certificate has expired", r"self[- ]signed certificate[^\n]{0,30}",
    r"unable to get local issuer certificate", r"SSL handshake failed", r"wrong version number",
    r"Name or service not known", r"NXDOMAIN", r"upstream timed out[^\n]{0,60}", r"request entity too large",
    r"too many redirects", r"failed to connect", r"Zeitüberschreitung", r"Verbindung abgelehnt",
    r"connexion refusée", r"délai d'attente dépassé", r"conexión rechazada", r"tiempo de espera agotado",
)
_KNOWN_ERROR = re.compile("|".join(f"(?:{p})" for p in _KNOWN_ERRORS), re.I)
_EXCEPTION_LINE = re.compile(
    r"^\s*(?:raise |throw |Caused by: |Uncaught |Error: |panic: )?"
    r"((?:[A-Za-z_][\w$]*(?:\.|::|\\))*[A-Z]\w*(?:Error|Exception|Fault|Timeout)\b(?::| -)[^\n]{0,200}"
    r"|panic: [^\n]{1,200})",
    re.M,
)

# --- ids, headers, URLs, status codes ----------------------------------------------------------
_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_HEADER_IDS = {  # header that carries an event/message id -> platform
    "x-github-delivery": "github", "x-shopify-webhook-id": "shopify", "x-shopify-event-id": "shopify",
    "svix-id": "svix", "webhook-id": "standard-webhooks", "x-hookdeck-eventid": "hookdeck",
    "idempotency-key": "hookdeck", "x-convoy-idempotency-key": "convoy",
}
_WEBHOOK_HEADER = re.compile(  # every webhook header has a hyphen; exception names have none
    r"^(?=[\w]+-)(?:webhook|svix|stripe|x-github|x-hub|x-shopify|x-hookdeck|x-convoy|x-twilio|x-signature|"
    r"x-webhook|x-[\w-]*signature|[\w-]*-signature|content-type|user-agent|idempotency-key)[\w-]*$", re.I)
_ONE_WORD_HEADERS = {"host", "accept", "connection", "authorization", "cookie", "via", "forwarded", "expect",
                     "origin", "pragma", "date", "server", "traceparent"}
_HEADER_LINE = re.compile(r"^[ \t>]*([A-Za-z][A-Za-z0-9-]{1,60}):[ \t]*(\S[^\n]*)$", re.M)
_REQUEST_LINE = re.compile(r"^[ \t>]*(POST|PUT|GET|PATCH) (/\S*|https?://\S+) HTTP/\d(?:\.\d)?[ \t]*$", re.M)
_URL = re.compile(r"https?://[^\s<>\"'`)\]]+", re.I)
_NOT_ENDPOINT_HOSTS = re.compile(
    r"(?:^|\.)(?:stripe\.com|github\.com|docs\.[\w.-]+|svix\.com|hookdeck\.com|getconvoy\.io|shopify\.dev|"
    r"shopify\.com|stackoverflow\.com|google\.com|zendesk\.com|slack\.com|example\.com)$", re.I)
_REASONS = (
    "OK|Created|Accepted|No Content|Moved Permanently|Found|See Other|Temporary Redirect|Permanent Redirect|"
    "Bad Request|Unauthorized|Forbidden|Not Found|Method Not Allowed|Request Timeout|Conflict|Gone|"
    "Payload Too Large|Request Entity Too Large|Unsupported Media Type|Unprocessable Entity|Too Many Requests|"
    "Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout"
)
_STATUS = re.compile(
    r"(?:\b(?:HTTP(?:/\d(?:\.\d)?)?|status(?: code)?|status_code|code|returns?|returned|returning|got|gets|"
    r"getting|answer(?:s|ed)?|respond(?:s|ed)? with|response(?: code)?|responseStatusCode|error|a|an|with)"
    r"[\s:=\"']{1,3}\(?([1-5]\d\d)\b(?![-:/.]\d))"
    rf"|\b([1-5]\d\d)\)?[ \t]+(?:{_REASONS})\b"
    r"|\b([1-5]\d\d)s\b|\b([45]\d\d) (?:errors?|responses?|status)\b",
    re.I,
)
_EVENT_TYPE = re.compile(r"\b([a-z][a-z_]+(?:\.[a-z_]+){1,3})\b")

# --- frameworks and languages --------------------------------------------------------------------
_FRAMEWORKS = (
    ("Express", r"\bexpress(?:\.js|js)?\b(?! ?(?:checkout|delivery|shipping))"), ("Next.js", r"\bnext\.?js\b"),
    ("NestJS", r"\bnest\.?js\b"), ("Node.js", r"\bnode(?:\.js|js)?\b|\.js:\d+|\bnpm\b"),
    ("Django", r"\bdjango\b"), ("Flask", r"\bflask\b"), ("FastAPI", r"\bfastapi\b"),
    ("Python", r"\bpython\b|Traceback \(most recent call last\)|\.py\", line \d+"),
    ("Ruby on Rails", r"\brails\b"), ("Ruby", r"\bruby\b|\.rb:\d+"), ("Laravel", r"\blaravel\b"),
    ("Symfony", r"\bsymfony\b"), ("PHP", r"\bphp\b|\.php(?: on line|:\d+)"), ("Spring Boot", r"\bspring(?: boot)?\b"),
    ("Java", r"\bjava\b|\.java:\d+\)"), ("Kotlin", r"\bkotlin\b"), ("ASP.NET", r"\basp\.net\b"),
    ("C#", r"(?<!\w)c#|\.cs:line \d+"), ("Go", r"\bgolang\b|\bgoroutine \d+|\bnet/http\b|\.go:\d+"),
    ("Gin", r"\bgin-gonic\b|\bgin framework\b"), ("Rust", r"\brust\b|\baxum\b|\bactix\b"),
    ("AWS Lambda", r"\blambda\b"), ("API Gateway", r"\bapi gateway\b"),
    ("Cloudflare Workers", r"\bcloudflare workers?\b"),
    ("Vercel", r"\bvercel\b"), ("nginx", r"\bnginx\b"),
)
_PLATFORM_WORDS = {
    "stripe": r"\bstripe\b", "github": r"\bgithub\b", "shopify": r"\bshopify\b", "svix": r"\bsvix\b",
    "hookdeck": r"\bhookdeck\b", "convoy": r"\bconvoy\b",
}

# --- times ------------------------------------------------------------------------------------------
_ZONES = {  # abbreviation -> (UTC offset in hours, or None when it names several zones)
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
    "EST": -5, "EDT": -4, "CST": None, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9,
    "HST": -10, "IST": None, "JST": 9, "KST": 9, "SGT": 8, "HKT": 8, "AEST": 10, "AEDT": 11, "NZST": 12,
    "NZDT": 13, "BRT": -3, "ART": -3,
}
_ZONE = r"(?:Z|[+-]\d{2}:?\d{2}|\(?(?:UTC|GMT)[+-]\d{1,2}(?::?\d{2})?\)?|[A-Z]{2,5}|[A-Z][a-z]+/[A-Za-z_]+)"
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_ISO_TIME = re.compile(
    r"\b(\d{4})[-/](\d{2})[-/](\d{2})(?:T|,? (?:at |um |à |a las )?)(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?"
    rf"(?:[ \t]?({_ZONE}))?(?![\w:])")
_SLASH_TIME = re.compile(
    r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4}),?(?:[ \t]+(?:at[ \t]+)?(\d{1,2})(?::(\d{2}))?(?::\d{2})?[ \t]?([ap]\.?m\.?)?"
    rf"(?:[ \t]?({_ZONE}))?)?(?![\w/])", re.I)
_WORD_TIME = re.compile(
    r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)\w*,?[ \t]+)?"
    r"(?:(\d{1,2})(?:st|nd|rd|th)?[ \t]+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*"
    r"|(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\w*[ \t]+(\d{1,2})(?:st|nd|rd|th)?)"
    r",?(?:[ \t]+(\d{4}))?,?(?:[ \t]+(?:at|um|à|a las)?[ \t]*(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?[ \t]?([ap]\.?m\.?)?"
    rf"(?:[ \t]?({_ZONE}))?)?", re.I)
_BARE_TIME = re.compile(
    r"\b(?:at|around|since|from|until|about|um|vers|à|a las|desde)[ \t]+(\d{1,2})(?::(\d{2}))?[ \t]?([ap]\.?m\.?)?"
    rf"(?:[ \t]?({_ZONE}))?(?![\w:])", re.I)
_MAIL_DATE = re.compile(r"^[ \t>]*(?:Date|Sent|Gesendet|Envoyé|Enviado)[ \t]*:[ \t]*([^\n]+)$", re.M | re.I)
_RELATIVE = re.compile(r"\b(yesterday|today|this morning|last night|tonight|gestern|heute|hier|ayer|hoy)\b", re.I)
_TICKET_REF = re.compile(r"\b((?:ZD|SUP|TKT|CS|HELP|INC)-\d{2,8})\b")
_ENDPOINT_ID = re.compile(r"\b((?:ep|we)_[A-Za-z0-9]{3,40})\b")


@dataclass(frozen=True)
class TicketTime:
    """A time the customer wrote: the text, the instant when it can be known, and what is unsure."""

    text: str
    iso: str | None = None
    timezone: str | None = None
    question: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "iso": self.iso, "timezone": self.timezone, "question": self.question}


@dataclass
class Intake:
    """What one ticket contains, and what the case form can be filled with."""

    urls: list[str] = field(default_factory=list)
    event_ids: list[dict[str, str]] = field(default_factory=list)
    times: list[TicketTime] = field(default_factory=list)
    status_codes: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    request: str | None = None
    frameworks: list[str] = field(default_factory=list)
    platform: str | None = None
    event_types: list[str] = field(default_factory=list)
    endpoint_ids: list[str] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)
    proposed_checks: list[dict[str, str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    ticket_ref: str | None = None

    @property
    def endpoint_url(self) -> str:
        """The URL most likely to be the customer's endpoint (not a dashboard or documentation link)."""
        for url in self.urls:
            host = urlsplit(url).hostname or ""
            if not _NOT_ENDPOINT_HOSTS.search(host):
                return url
        return ""

    def case_fields(self) -> dict[str, str]:
        """The Triage form's fields this ticket fills (only those it tells)."""
        fields = {"ticket": self.ticket_ref or "", "endpoint_url": self.endpoint_url,
                  "profile": _PROFILE_OF_PLATFORM.get(self.platform or "", ""),
                  "captured": self.request or "",
                  "log_endpoint": self.endpoint_ids[0] if len(self.endpoint_ids) == 1 else ""}
        return {k: v for k, v in fields.items() if v}

    def to_dict(self) -> dict[str, Any]:
        return {
            "urls": self.urls,
            "event_ids": self.event_ids,
            "times": [t.to_dict() for t in self.times],
            "status_codes": self.status_codes,
            "errors": self.errors,
            "headers": self.headers,
            "request": self.request,
            "frameworks": self.frameworks,
            "platform": self.platform,
            "event_types": self.event_types,
            "endpoint_ids": self.endpoint_ids,
            "symptoms": self.symptoms,
            "proposed_checks": self.proposed_checks,
            "questions": self.questions,
            "case": self.case_fields(),
        }


_PROFILE_OF_PLATFORM = {"stripe": "stripe", "github": "github", "shopify": "shopify", "svix": "svix",
                        "standard-webhooks": "svix", "hookdeck": "hookdeck", "convoy": "convoy"}


def _unique(values: Iterable[Any], limit: int = MAX_ITEMS) -> list[Any]:
    seen: list[Any] = []
    for value in values:
        if value not in seen:
            seen.append(value)
        if len(seen) >= limit:
            break
    return seen


# --- the parts -----------------------------------------------------------------------------------


def _urls(text: str) -> list[str]:
    return _unique(u.rstrip(".,;:!?") for u in _URL.findall(text))


def _headers(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _HEADER_LINE.finditer(text):
        name, value = match.group(1), match.group(2).strip()
        if _WEBHOOK_HEADER.match(name) and name.lower() not in {k.lower() for k in found}:
            found[name] = value[:500]
    for match in re.finditer(r"\b(Stripe-Signature|X-Hub-Signature-256|webhook-signature|svix-signature)"
                             r"[\"']?\s*[:=]\s*[\"']?([^\s\"',]+(?:,[^\s\"']+)*)", text, re.I):
        if match.group(1).lower() not in {k.lower() for k in found}:
            found[match.group(1)] = match.group(2)[:500]
    return found


def _request(text: str) -> str | None:
    """A pasted request: an optional request line, header lines, a blank line, then a JSON body."""
    lines = text.replace("\r\n", "\n").split("\n")
    start = None
    for number, line in enumerate(lines):
        block = _header_block(lines, number)
        if _REQUEST_LINE.match(line) or (block and any("signature" in name.lower() for name in block)
                                         and not _header_block(lines, number - 1)):
            start = number
            break
    if start is None:
        return None
    request_line = ""
    if _REQUEST_LINE.match(lines[start]):
        request_line = lines[start].strip(" \t>")
        start += 1
    headers: list[str] = []
    index = start
    while index < len(lines):
        match = _HEADER_LINE.match(lines[index])
        if not match or not _is_http_header(match.group(1)):
            break
        headers.append(f"{match.group(1)}: {match.group(2).strip()}")
        index += 1
    if not headers or not any("signature" in h.split(":", 1)[0].lower() for h in headers):
        return None
    if not request_line and not rest_starts_with_body(lines[index:]):
        return None  # header lines quoted in prose, no request: nothing to verify
    rest = "\n".join(lines[index:]).lstrip(" \t\n>")
    body = ""
    if rest[:1] in ("{", "["):
        try:
            _value, end = json.JSONDecoder().raw_decode(rest)
            body = rest[:end]
        except json.JSONDecodeError:
            body = ""
    head = ([request_line] if request_line else []) + headers
    return "\n".join(head) + "\n\n" + body


def rest_starts_with_body(lines: list[str]) -> bool:
    rest = "\n".join(lines).lstrip(" \t\n>")
    return rest[:1] in ("{", "[")


def _header_block(lines: list[str], number: int) -> list[str]:
    """The header names of the run of 'Name: value' lines starting at this line."""
    if number < 0:
        return []
    names = []
    for line in lines[number:number + 40]:
        match = _HEADER_LINE.match(line)
        if not match or not _is_http_header(match.group(1)):
            break
        names.append(match.group(1))
    return names


def _is_http_header(name: str) -> bool:
    """A request header name, not an exception class or a prose label ("Error: ...", "Note: ...")."""
    return "-" in name or name.lower() in _ONE_WORD_HEADERS


def _event_ids(text: str, headers: dict[str, str], platforms: set[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for name, value in headers.items():
        platform = _HEADER_IDS.get(name.lower())
        if platform and value.split():
            found.append({"id": value.split()[0].strip("\"'.,;"), "platform": platform, "from": f"header {name}"})
    for match in re.finditer(r"\b(evt_[A-Za-z0-9]{8,40})\b", text):
        value = match.group(1)
        if "hookdeck" in platforms and "stripe" not in platforms:
            platform = "hookdeck"
        elif "stripe" in platforms or re.match(r"evt_1[A-Za-z0-9]{20,}$", value):
            platform = "stripe"
        else:
            platform = "unknown"
        found.append({"id": value, "platform": platform, "from": "text"})
    for match in re.finditer(r"\b(msg_[A-Za-z0-9]{10,40})\b", text):
        found.append({"id": match.group(1), "platform": "svix", "from": "text"})
    for match in re.finditer(rf"(?i)\b(?:delivery|guid|event[ _-]?id|webhook[ _-]?id)\b[^\n]{{0,20}}?({_UUID})", text):
        platform = next((p for p in ("github", "shopify", "convoy") if p in platforms), "unknown")
        found.append({"id": match.group(1), "platform": platform, "from": "text"})
    result: list[dict[str, str]] = []
    for item in found:
        if item["id"] not in {r["id"] for r in result}:
            result.append(item)
    return result[:MAX_ITEMS]


def _status_codes(text: str) -> list[int]:
    codes = []
    for match in _STATUS.finditer(text):
        value = next(g for g in match.groups() if g)
        codes.append(int(value))
    return _unique(c for c in codes if 100 <= c <= 599)


def _errors(text: str) -> list[str]:
    found = [m.group(1).strip() for m in _EXCEPTION_LINE.finditer(text)]
    for match in _KNOWN_ERROR.finditer(text):
        phrase = match.group(0).strip().rstrip(".,;")
        if not any(phrase.lower() in f.lower() for f in found):
            found.append(phrase)
    return _unique(found)


def _frameworks(text: str) -> list[str]:
    names = [name for name, pattern in _FRAMEWORKS if re.search(pattern, text, re.I)]
    if "Ruby on Rails" in names and "Ruby" not in names:
        names.append("Ruby")
    return names


def _platforms(text: str, headers: dict[str, str]) -> set[str]:
    named = {p for p, pattern in _PLATFORM_WORDS.items() if re.search(pattern, text, re.I)}
    lowered = {h.lower() for h in headers}
    for prefix, platform in (("stripe-", "stripe"), ("x-github", "github"), ("x-hub-", "github"),
                             ("x-shopify", "shopify"), ("svix-", "svix"), ("x-hookdeck", "hookdeck"),
                             ("x-convoy", "convoy")):
        if any(h.startswith(prefix) for h in lowered):
            named.add(platform)
    return named


def _platform(named: set[str], headers: dict[str, str]) -> str | None:
    lowered = {h.lower() for h in headers}
    for header, platform in (("stripe-signature", "stripe"), ("x-hub-signature-256", "github"),
                             ("x-shopify-hmac-sha256", "shopify"), ("svix-signature", "svix"),
                             ("x-hookdeck-signature", "hookdeck"), ("x-convoy-signature", "convoy"),
                             ("webhook-signature", "standard-webhooks")):
        if header in lowered:
            return platform
    return next(iter(sorted(named))) if len(named) == 1 else None


def _symptoms(text: str, errors: list[str], codes: list[int]) -> list[str]:
    found = [s for s, patterns in _SYMPTOM_PATTERNS.items() if any(re.search(p, text, re.I) for p in patterns)]
    joined = " ".join(errors).lower()
    if "signature_failing" not in found and ("signature" in joined or "verification" in joined):
        found.append("signature_failing")
    if "timeouts" not in found and (any(c in (408, 504) for c in codes) or "timed out" in joined):
        found.append("timeouts")
    return [s for s in SYMPTOMS if s in found]


# --- times ------------------------------------------------------------------------------------------


def _zone(text: str | None) -> tuple[timezone | ZoneInfo | None, str | None]:
    """(tzinfo, question) for a zone as written; (None, None) when nothing is written."""
    if not text:
        return None, None
    zone = text.strip("() ")
    offset = re.fullmatch(r"(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?", zone)
    if offset:
        sign = -1 if offset.group(1) == "-" else 1
        return timezone(sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3) or 0))), None
    upper = zone.upper()
    if upper in _ZONES:
        hours = _ZONES[upper]
        if hours is None:
            return None, f"{zone} names several time zones (e.g. US Central or China for CST, India or Ireland for IST)"
        return timezone(timedelta(hours=hours)), None
    if "/" in zone:
        try:
            return ZoneInfo(zone), None
        except (ZoneInfoNotFoundError, ValueError):
            return None, f"{zone} is not a time zone we know"
    return None, None


def _hour(hour: int, ampm: str | None) -> int:
    if not ampm:
        return hour
    pm = ampm.lower().startswith("p")
    return (hour % 12) + (12 if pm else 0)


def _time(text: str, parts: tuple[int, int, int, int, int, int] | None, zone_text: str | None,
          default_zone: tuple[timezone | None, str] | None, extra_question: str | None = None) -> TicketTime:
    tzinfo, question = _zone(zone_text)
    label = zone_text
    if parts is None:
        both = "; ".join(q for q in (extra_question, question) if q)
        return TicketTime(text=text, timezone=label, question=both or None)
    if tzinfo is None and question is None:
        if default_zone and default_zone[0] is not None:
            tzinfo, label = default_zone[0], default_zone[1]
            question = (f"No time zone written; {default_zone[1]} assumed from the e-mail's date. "
                        "Confirm with the customer?")
        else:
            question = "No time zone written: which time zone is this in?"
    iso = None
    try:
        moment = datetime(*parts, tzinfo=tzinfo or UTC)
        iso = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if tzinfo is not None else None
    except ValueError:
        question = "This is not a valid date or time; ask the customer."
    return TicketTime(text=text, iso=iso, timezone=label, question=extra_question or question)


def _mail_zone(text: str) -> tuple[timezone | None, str] | None:
    """The sender's UTC offset from a forwarded e-mail's Date header, used when a time has none."""
    for match in _MAIL_DATE.finditer(text):
        offset = re.search(r"([+-])(\d{2}):?(\d{2})\b", match.group(1))
        if offset:
            sign = -1 if offset.group(1) == "-" else 1
            delta = sign * timedelta(hours=int(offset.group(2)), minutes=int(offset.group(3)))
            return timezone(delta), f"{offset.group(1)}{offset.group(2)}:{offset.group(3)}"
    return None


def _times(text: str, headers: dict[str, str]) -> list[TicketTime]:
    mail_zone = _mail_zone(text)
    found: list[tuple[int, TicketTime]] = []
    taken: list[range] = []

    def add(match: re.Match[str], item: TicketTime) -> None:
        span = range(match.start(), match.end())
        if any(span.start in t or t.start in span for t in taken):
            return
        taken.append(span)
        found.append((match.start(), item))

    mail_lines = {m.start(1) for m in _MAIL_DATE.finditer(text)}
    for m in _ISO_TIME.finditer(text):
        y, mo, d, h, mi, s, zone = m.groups()
        add(m, _time(m.group(0), (int(y), int(mo), int(d), int(h), int(mi), int(s or 0)), zone, mail_zone))
    for m in _SLASH_TIME.finditer(text):
        a, b, y, h, mi, ampm, zone = m.groups()
        first, second = int(a), int(b)
        question = None
        if first <= 12 and second <= 12 and first != second:
            question = (f"is it day/month or month/day? Read as {'month/day' if first <= 12 else 'day/month'}"
                        " (the US order) until the customer confirms")
        day, month = (first, second) if first > 12 else (second, first)
        parts = (int(y), month, day, _hour(int(h), ampm) if h else 0, int(mi or 0), 0) if h else None
        item = _time(m.group(0).strip(), parts, zone, mail_zone, question or (None if h else
                     "A date without a time of day: which hours?"))
        add(m, item)
    for m in _WORD_TIME.finditer(text):
        d1, mon1, mon2, d2, y, h, mi, s, ampm, zone = m.groups()
        if m.start() in mail_lines or any(m.start() >= line and m.start() < line + 80 for line in mail_lines):
            continue  # the e-mail's own Date header is when it was written, not what happened
        month = _MONTHS[(mon1 or mon2)[:3].lower()]
        day = int(d1 or d2)
        year = int(y) if y else None
        question = None if year else "No year written: which year?"
        parts = (year or 2000, month, day, _hour(int(h), ampm), int(mi or 0), int(s or 0)) if h else None
        if parts is None:
            question = question or "A date without a time of day: which hours?"
        add(m, _time(m.group(0).strip(), parts, zone, mail_zone, question if not year or parts is None else None))
    for m in _BARE_TIME.finditer(text):
        h, mi, ampm, zone = m.groups()
        if not (mi or ampm or zone):
            continue  # "at 5" alone is too loose to be a time
        relative = _RELATIVE.search(text[max(0, m.start() - 40): m.end() + 40])
        question = (f"'{relative.group(0)}' is relative: which date?" if relative
                    else "A time of day without a date: which day?")
        add(m, _time(m.group(0).strip(), None, zone, mail_zone, question))
    for name, value in headers.items():
        stamp = re.search(r"\b(\d{10})\b", value) if name.lower() in ("webhook-timestamp", "svix-timestamp",
                                                                       "stripe-signature") else None
        if stamp:
            moment = datetime.fromtimestamp(int(stamp.group(1)), UTC)
            found.append((len(text), TicketTime(text=f"{name}: {stamp.group(1)}",
                                                iso=moment.strftime("%Y-%m-%dT%H:%M:%SZ"), timezone="UTC")))
    return [item for _, item in sorted(found, key=lambda pair: pair[0])][:MAX_ITEMS]


# --- proposals ----------------------------------------------------------------------------------------


def _proposals(intake: Intake) -> list[dict[str, str]]:
    checks: list[dict[str, str]] = []
    symptoms = set(intake.symptoms)
    if intake.endpoint_url:
        why = "probe the endpoint the customer names"
        if symptoms & {"timeouts", "not_receiving", "disabled_endpoint"}:
            why += ": reachability, TLS and response time against the sender's timeout"
        checks.append({"check": "probe", "why": why})
    if intake.request or "signature_failing" in symptoms:
        why = ("verify the pasted request with the signing secret" if intake.request
               else "signature failures: ask for a captured request (headers and the raw body) and check it")
        checks.append({"check": "signature", "why": why})
    if symptoms & {"not_receiving", "duplicates", "marked_failed_but_processed", "timeouts", "disabled_endpoint"} \
            or intake.event_ids:
        what = ", ".join(e["id"] for e in intake.event_ids[:3])
        checks.append({"check": "logs", "why": "read the delivery log around the times given"
                       + (f" for {what}" if what else "")})
    if "missing_event_type" in symptoms:
        checks.append({"check": "coverage", "why": "check the event types and the subscription: "
                       + (", ".join(intake.event_types[:3]) or "the type the customer misses")})
    return checks


def _questions(intake: Intake) -> list[str]:
    asks = [f"{t.text}: {t.question}" for t in intake.times if t.question]
    if not intake.endpoint_url:
        asks.append("Which endpoint URL is affected?")
    if "signature_failing" in intake.symptoms and not intake.request:
        asks.append("Can the customer paste one failing request exactly as received (headers and raw body)?")
    return asks


def read_ticket(text: str) -> Intake:
    """Everything a ticket's text tells, for the agent to check and the case form to start from."""
    if not text.strip():
        raise InputError("the ticket text is empty", field="ticket text")
    text = text[:MAX_TICKET_CHARS].replace("\r\n", "\n")
    headers = _headers(text)
    named = _platforms(text, headers)
    intake = Intake(urls=_urls(text), headers=headers, request=_request(text))
    intake.event_ids = _event_ids(text, headers, named)
    intake.platform = _platform(named, headers) or _only({e["platform"] for e in intake.event_ids} - {"unknown"})
    intake.times = _times(text, headers)
    intake.status_codes = _status_codes(text)
    intake.errors = _errors(text)
    intake.frameworks = _frameworks(text)
    intake.symptoms = _symptoms(text, intake.errors, intake.status_codes)
    prose = _URL.sub(" ", text)
    intake.event_types = _unique(t for t in _EVENT_TYPE.findall(prose) if _looks_like_event_type(t, prose))
    intake.endpoint_ids = _unique(_ENDPOINT_ID.findall(text))
    ref = _TICKET_REF.search(text)
    intake.ticket_ref = ref.group(1) if ref else None
    intake.proposed_checks = _proposals(intake)
    intake.questions = _questions(intake)
    return intake


def _only(values: set[str]) -> str | None:
    return next(iter(values)) if len(values) == 1 else None


def _looks_like_event_type(candidate: str, text: str) -> bool:
    """invoice.paid, order.created, push: dotted names near the word event/webhook/topic, not hosts."""
    if re.search(r"\.(?:com|org|net|io|dev|js|py|rb|php|java|go|json|html|example|test|internal)\b", candidate):
        return False
    return bool(re.search(rf"{re.escape(candidate)}\W{{1,3}}(?:events?|webhooks?|notifications?)"
                          rf"|(?:events?|types?|topics?)\W{{1,3}}(?:\w+\W+){{0,2}}{re.escape(candidate)}", text, re.I))


def intake_outcome(text: str, subject: str = "ticket") -> Outcome:
    """The intake as an Outcome: JSON at metrics.intake, a table of what was found for the text output."""
    intake = read_ticket(text)
    rows: list[dict[str, Any]] = []
    rows += [{"found": "url", "value": u, "note": "endpoint" if u == intake.endpoint_url else ""}
             for u in intake.urls]
    rows += [{"found": "event id", "value": e["id"], "note": e["platform"]} for e in intake.event_ids]
    rows += [{"found": "time", "value": t.text, "note": t.iso or t.question or ""} for t in intake.times]
    rows += [{"found": "status", "value": c, "note": ""} for c in intake.status_codes]
    rows += [{"found": "error", "value": e, "note": ""} for e in intake.errors]
    rows += [{"found": "header", "value": f"{k}: {v}", "note": ""} for k, v in intake.headers.items()]
    rows += [{"found": "framework", "value": f, "note": ""} for f in intake.frameworks]
    rows += [{"found": "symptom", "value": s, "note": ""} for s in intake.symptoms]
    rows += [{"found": "proposed check", "value": c["check"], "note": c["why"]} for c in intake.proposed_checks]
    rows += [{"found": "question", "value": q, "note": ""} for q in intake.questions]
    return Outcome(subject=subject, findings=[], metrics={"intake": intake.to_dict()},
                   tables={"intake": rows}, kind="intake")
