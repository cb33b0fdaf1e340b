"""`verify`, `sign` and `schemes`: the signature debugger on the command line.

`verify` turns a captured request into findings (exit 0 valid, 1 a cause was found or nothing
matched, 2 the input is unusable). `sign` prints the headers a sender would attach. `schemes`
lists every scheme with the formula it applies. Secrets never reach shell history when given as
`--secret -` (read from stdin) and are never printed, only their fingerprints.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from diagnostics.cli._common import add_output_options, read_text_file, write_output
from diagnostics.cli.commands import COMMANDS
from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.findings import Outcome
from diagnostics.signatures import ALIASES, Headers, get_scheme, scheme_names, sign_headers
from diagnostics.signatures.base import MAX_BODY_BYTES

HMAC_FLAGS = {
    "header": "signature header name",
    "algorithm": "sha1, sha256, sha384 or sha512",
    "encoding": "hex, base64 or base64url",
    "prefix": "text before the digest, e.g. 'sha256='",
    "template": "signed content, e.g. '{timestamp}.{body}' ({id} {timestamp} {body} {url})",
    "timestamp_header": "header carrying the signed timestamp",
    "id_header": "header carrying the signed message id",
    "secret_encoding": "utf8, base64 or hex: how the secret becomes the key",
}


def register(subparsers: argparse._SubParsersAction) -> None:
    verify = subparsers.add_parser(
        "verify", help=COMMANDS["verify"].help
    )
    verify.add_argument("--body-file", required=True, metavar="FILE", help="the request body exactly as received")
    verify.add_argument(
        "--header", action="append", default=[], metavar="'Name: value'", help="a request header (repeat)"
    )
    _secret_option(verify, "signing secret; repeat for rotation; '-' reads secrets from stdin, one per line")
    verify.add_argument("--scheme", default="auto", help="auto (detect from the headers) or a name from `schemes`")
    verify.add_argument("--url", help="the URL the sender called (Twilio, Square and {url} templates sign it)")
    verify.add_argument("--now", type=float, metavar="UNIX_SECONDS", help="judge the timestamp at this time")
    verify.add_argument("--tolerance", type=float, metavar="SECONDS", help="timestamp window (default: the scheme's)")
    _hmac_options(verify)
    add_output_options(verify)
    verify.set_defaults(handler=_verify)

    sign = subparsers.add_parser("sign", help=COMMANDS["sign"].help)
    sign.add_argument("--scheme", help="scheme name (default: [signature] scheme in diagnostics.toml)")
    _secret_option(sign, "signing secret (the private key for public-key schemes); '-' reads it from stdin")
    sign.add_argument("--body-file", required=True, metavar="FILE", help="the body to sign")
    sign.add_argument("--id", dest="msg_id", help="message id for schemes that sign one")
    sign.add_argument("--timestamp", type=int, help="unix seconds to sign (default: now)")
    sign.add_argument("--url", help="the endpoint URL, for schemes that sign it")
    sign.add_argument("--format", choices=("text", "json"), default="text", help="headers as lines or JSON")
    sign.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    _hmac_options(sign)
    sign.set_defaults(handler=_sign)

    schemes = subparsers.add_parser("schemes", help=COMMANDS["schemes"].help)
    schemes.add_argument("--format", choices=("text", "json"), default="text")
    schemes.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    _hmac_options(schemes)
    schemes.set_defaults(handler=_schemes)


def _secret_option(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--secret", action="append", default=[], metavar="S", help=text)


def _hmac_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("generic hmac scheme (defaults: [signature.hmac] in diagnostics.toml)")
    for key, text in HMAC_FLAGS.items():
        group.add_argument(f"--hmac-{key.replace('_', '-')}", dest=f"hmac_{key}", metavar="VALUE", help=text)


def hmac_options(args: argparse.Namespace, config: Config) -> dict[str, Any]:
    """The generic scheme's settings: [signature.hmac] from the configuration, flags on top."""
    configured = config.get("signature", "hmac") or {}
    if not isinstance(configured, dict):
        raise InputError("[signature.hmac] must be a table", file="diagnostics.toml", field="signature.hmac")
    options = dict(configured)
    for key in HMAC_FLAGS:
        value = getattr(args, f"hmac_{key}", None)
        if value is not None:
            options[key] = value
    return options


def read_secrets(values: list[str], stdin: Any = None) -> list[str]:
    """Secrets from --secret; '-' reads them from stdin (one per line) so they stay out of shell history."""
    if not values:
        raise InputError("no secret given; pass --secret S or --secret - to read it from stdin", field="--secret")
    secrets: list[str] = []
    for value in values:
        if value == "-":
            stream = stdin if stdin is not None else sys.stdin
            lines = [line.rstrip("\r\n") for line in stream.read().splitlines()]
            found = [line for line in lines if line.strip()]
            if not found:
                raise InputError("--secret - was given but stdin holds no secret", field="--secret")
            secrets.extend(found)
        else:
            secrets.append(value)
    for position, secret in enumerate(secrets, start=1):
        if not secret.strip():
            raise InputError(f"secret {position} is empty", field="--secret")
    return secrets


def _tolerance(args: argparse.Namespace, config: Config, scheme: str) -> float | None:
    """--tolerance, else ours from diagnostics.toml when the scheme is ours, else the scheme's default."""
    if args.tolerance is not None:
        if args.tolerance < 0:
            raise InputError("--tolerance must not be negative", field="--tolerance")
        return args.tolerance
    if scheme != "auto" and scheme == config.get("signature", "scheme"):
        return float(config.get("signature", "tolerance_seconds"))
    return None


def _verify(args: argparse.Namespace, config: Config) -> Outcome:
    from diagnostics.pipeline.signature import debug_signature  # the debugger loads only for `verify`

    body = read_text_file(args.body_file, "body file", max_bytes=MAX_BODY_BYTES)
    headers = Headers.parse_lines(args.header)
    if not headers.names():
        raise InputError("no headers given; pass the signature headers with --header 'Name: value'", field="--header")
    secrets = read_secrets(args.secret)
    return debug_signature(
        body,
        headers.pairs(),
        secrets,
        scheme=args.scheme,
        url=args.url,
        now=args.now,
        tolerance_s=_tolerance(args, config, args.scheme),
        options=hmac_options(args, config),
    )


def _sign(args: argparse.Namespace, config: Config) -> int:
    scheme = args.scheme or str(config.get("signature", "scheme"))
    body = read_text_file(args.body_file, "body file", max_bytes=MAX_BODY_BYTES)
    secrets = read_secrets(args.secret)
    if len(secrets) != 1:
        raise InputError("sign takes exactly one secret", field="--secret")
    headers = sign_headers(
        scheme,
        secrets[0],
        body,
        msg_id=args.msg_id,
        timestamp=args.timestamp,
        url=args.url,
        options=hmac_options(args, config),
    )
    if args.format == "json":
        text = json.dumps(headers, indent=2) + "\n"
    else:
        text = "".join(f"{name}: {value}\n" for name, value in headers.items())
    write_output(text, args.output)
    return 0


def _schemes(args: argparse.Namespace, config: Config) -> int:
    options = hmac_options(args, config)
    rows = []
    for name in scheme_names():
        scheme = get_scheme(name, options)
        aliases = [alias for alias, cls in ALIASES.items() if issubclass(cls, type(scheme))]
        rows.append(
            {
                "name": name,
                "aliases": aliases,
                "label": scheme.label,
                "family": scheme.family,
                "formula": scheme.formula,
                "tolerance_s": scheme.tolerance_s,
            }
        )
    if args.format == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        lines = []
        for row in rows:
            alias = f" (alias: {', '.join(row['aliases'])})" if row["aliases"] else ""
            window = f"; timestamp window {row['tolerance_s']:g} s" if row["tolerance_s"] else ""
            lines.append(f"{row['name']}{alias}  [{row['family']}{window}]\n    {row['formula']}\n")
        text = "".join(lines)
    write_output(text, args.output)
    return 0
