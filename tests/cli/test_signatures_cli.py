"""`verify`, `sign` and `schemes` through main(argv): exit codes 0/1/2, formats, stdin secrets,
and the generic hmac flags defaulting to [signature.hmac] in diagnostics.toml."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from diagnostics.cli import main
from diagnostics.signatures import scheme_names

V1_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
V1_HEADERS = [
    "--header",
    "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
    "--header",
    "webhook-timestamp: 1614265330",
    "--header",
    "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
]
NOW = ["--now", "1614265400"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def v1_body(tmp_path: Path) -> Path:
    path = tmp_path / "body.json"
    path.write_bytes(b'{"test": 2432232314}')
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_verify_valid_exits_0(v1_body: Path, capsys) -> None:
    code, out, _ = run(["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", V1_SECRET, *NOW], capsys)
    assert code == 0
    assert "[PASS]" in out and "signature-valid" in out
    assert V1_SECRET not in out and "whse…" in out


def test_verify_reads_secret_from_stdin(v1_body: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(V1_SECRET + "\n"))
    code, out, _ = run(["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", "-", *NOW], capsys)
    assert code == 0 and "signature-valid" in out


def test_verify_mismatch_exits_1_with_json(tmp_path: Path, capsys) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(b'{"test":2432232314}')  # the space removed: re-serialized compact
    code, out, _ = run(
        ["verify", "--body-file", str(body), *V1_HEADERS, "--secret", V1_SECRET, *NOW, "--format", "json"], capsys
    )
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"subject", "findings", "metrics"}
    assert data["findings"][0]["code"] == "signature-body-reserialized"
    assert data["metrics"]["scheme_chosen_because"] == "the webhook-signature header is present"
    assert data["metrics"]["changes"][0]["axis"] == "body"


def test_verify_stale_timestamp_exits_1(v1_body: Path, capsys) -> None:
    code, out, _ = run(
        ["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", V1_SECRET, "--now", "1614265330000"],
        capsys,
    )
    assert code == 1 and "signature-timestamp-stale" in out


def test_verify_tolerance_flag(v1_body: Path, capsys) -> None:
    argv = ["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", V1_SECRET, "--now", "1614266330"]
    assert run(argv, capsys)[0] == 1
    assert run([*argv, "--tolerance", "3600"], capsys)[0] == 0


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_verify_formats_and_output_file(v1_body: Path, tmp_path: Path, capsys, fmt: str) -> None:
    target = tmp_path / f"report.{fmt}"
    argv = ["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", V1_SECRET, *NOW]
    code, out, _ = run([*argv, "--format", fmt, "--output", str(target)], capsys)
    assert code == 0 and out == ""
    text = target.read_text(encoding="utf-8")
    assert V1_SECRET not in text
    assert ("<html" in text.lower()) if fmt == "html" else ("valid" in text.lower())


def test_verify_rotation_secrets(v1_body: Path, capsys) -> None:
    other = "whsec_" + "A" * 32
    code, out, _ = run(
        ["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", other, "--secret", V1_SECRET, *NOW], capsys
    )
    assert code == 0 and "signature-old-secret-matched" in out and "secret 2 of 2" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--header", "X-Nothing: 1", "--secret", "s"], "no known signature header"),
        (["--header", "Stripe-Signature: nonsense", "--secret", "s"], "is not key=value"),
        (["--header", "not a header", "--secret", "s"], "is not 'Name: value'"),
        (["--header", "Stripe-Signature: t=1,v1=ab", "--secret", ""], "secret 1 is empty"),
        (["--header", "Stripe-Signature: t=1,v1=ab"], "no secret given"),
        (["--header", "Stripe-Signature: t=1,v1=ab", "--secret", "s", "--scheme", "nope"], "unknown scheme"),
    ],
)
def test_verify_bad_input_exits_2_with_one_line(v1_body: Path, capsys, argv: list[str], message: str) -> None:
    code, out, err = run(["verify", "--body-file", str(v1_body), *argv], capsys)
    assert code == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_verify_missing_and_huge_body_file_exit_2(tmp_path: Path, capsys) -> None:
    code, _, err = run(["verify", "--body-file", str(tmp_path / "absent.json"), *V1_HEADERS, "--secret", "s"], capsys)
    assert code == 2 and "not found" in err
    huge = tmp_path / "huge.json"
    huge.write_bytes(b"x" * (10 * 1024 * 1024))
    code, _, err = run(["verify", "--body-file", str(huge), *V1_HEADERS, "--secret", "s"], capsys)
    assert code == 2 and "larger than" in err


def test_verify_stdin_without_secret_exits_2(v1_body: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n"))
    code, _, err = run(["verify", "--body-file", str(v1_body), *V1_HEADERS, "--secret", "-"], capsys)
    assert code == 2 and "stdin holds no secret" in err


def test_sign_prints_headers_one_per_line(v1_body: Path, capsys) -> None:
    code, out, _ = run(
        [
            "sign",
            "--scheme",
            "standard-webhooks",
            "--secret",
            V1_SECRET,
            "--body-file",
            str(v1_body),
            "--id",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "--timestamp",
            "1614265330",
        ],
        capsys,
    )
    assert code == 0
    assert out.splitlines() == [
        "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp: 1614265330",
        "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    ]


def test_sign_then_verify_round_trip_for_url_scheme(tmp_path: Path, capsys) -> None:
    body = tmp_path / "form.txt"
    body.write_bytes(b"CallSid=CA1&Digits=1234")
    secret = "0123456789abcdef0123456789abcdef"
    url = "https://example.com/voice"
    code, out, _ = run(
        ["sign", "--scheme", "twilio", "--secret", secret, "--body-file", str(body), "--url", url], capsys
    )
    assert code == 0
    header = out.strip()
    code, out, _ = run(
        ["verify", "--body-file", str(body), "--header", header, "--secret", secret, "--url", url], capsys
    )
    assert code == 0 and "signature-valid" in out


def test_sign_unknown_scheme_and_missing_url_exit_2(v1_body: Path, capsys) -> None:
    code, _, err = run(["sign", "--scheme", "nope", "--secret", "s", "--body-file", str(v1_body)], capsys)
    assert code == 2 and "unknown scheme" in err
    code, _, err = run(["sign", "--scheme", "square", "--secret", "s", "--body-file", str(v1_body)], capsys)
    assert code == 2 and "signs the URL" in err


def test_generic_hmac_defaults_come_from_config_and_flags_override(v1_body: Path, tmp_path: Path, capsys) -> None:
    config = tmp_path / "diagnostics.toml"
    config.write_text(
        '[signature]\nscheme = "hmac"\ntolerance_seconds = 60\n'
        '[signature.hmac]\nheader = "X-Acme-Signature"\nalgorithm = "sha512"\nencoding = "base64"\n'
        'prefix = "v1="\ntemplate = "{timestamp}:{body}"\ntimestamp_header = "X-Acme-Timestamp"\n',
        encoding="utf-8",
    )
    base = ["--config", str(config)]
    code, out, _ = run([*base, "sign", "--secret", "acme-secret-0123456789", "--body-file", str(v1_body),
                        "--timestamp", "1700000000"], capsys)  # fmt: skip
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["X-Acme-Timestamp"] == "1700000000" and lines["X-Acme-Signature"].startswith("v1=")
    headers = [arg for line in out.splitlines() for arg in ("--header", line)]
    verify = [*base, "verify", "--body-file", str(v1_body), *headers, "--secret", "acme-secret-0123456789",
              "--scheme", "hmac", "--now", "1700000030"]  # fmt: skip
    code, out, _ = run(verify, capsys)
    assert code == 0 and "signature-valid" in out
    code, out, _ = run([*verify[:-2], "--now", "1700000090"], capsys)
    assert code == 1 and "60 s window" in out  # tolerance from diagnostics.toml: the scheme is ours
    code, out, _ = run([*verify, "--hmac-algorithm", "sha256"], capsys)
    assert code == 1 and "signature-wrong-algorithm" in out


def test_schemes_lists_every_scheme_with_its_formula(capsys) -> None:
    code, out, _ = run(["schemes", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    assert [r["name"] for r in rows] == scheme_names()
    assert all(r["formula"] for r in rows)
    assert next(r for r in rows if r["name"] == "standard-webhooks")["aliases"] == ["svix"]
    code, out, _ = run(["schemes"], capsys)
    assert "twilio" in out and "HMAC-SHA1" in out


def test_python_dash_m_entry_point_bad_input_has_no_traceback(v1_body: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "diagnostics",
            "verify",
            "--body-file",
            str(v1_body),
            "--header",
            "X-A: 1",
            "--secret",
            "s",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("error:")
