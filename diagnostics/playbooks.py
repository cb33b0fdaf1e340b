"""Playbooks: what each finding code means and what to do, one Markdown file per code.

`playbooks/<code>.md` has YAML front matter (code, title, severity, audience) and fixed
sections. The set of playbooks is the catalog of finding codes; `tests/test_playbooks.py`
checks that every code the source can emit has one and every playbook has a producer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from diagnostics.errors import InputError
from diagnostics.findings import Finding, Severity

PLAYBOOK_DIR = Path(__file__).resolve().parent.parent / "playbooks"

SECTIONS = (
    "What it means",
    "Likely causes",
    "How to confirm",
    "The fix",
    "When to escalate",
    "Customer reply",
)
AUDIENCES = {"customer", "internal", "product"}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)
_HEADING = re.compile(r"^## (.+?)\s*$", re.M)


@dataclass(frozen=True)
class Playbook:
    code: str
    title: str
    severity: Severity
    audience: str
    sections: dict[str, str]

    @property
    def meaning(self) -> str:
        return self.sections["What it means"]

    @property
    def causes(self) -> str:
        return self.sections["Likely causes"]

    @property
    def confirm(self) -> str:
        return self.sections["How to confirm"]

    @property
    def fix(self) -> str:
        return self.sections["The fix"]

    @property
    def escalate(self) -> str:
        return self.sections["When to escalate"]

    @property
    def reply(self) -> str:
        return self.sections["Customer reply"]


def parse_playbook(path: Path) -> Playbook:
    """Parse one playbook file; any deviation from the format is an InputError naming the file."""
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    if not match:
        raise InputError("missing YAML front matter between '---' lines", file=str(path))
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"invalid front matter: {exc}", file=str(path)) from exc
    for key in ("code", "title", "severity", "audience"):
        if key not in meta:
            raise InputError("front matter lacks this key", file=str(path), field=key)
    if meta["code"] != path.stem:
        raise InputError(f"code {meta['code']!r} does not match the file name", file=str(path), field="code")
    if meta["audience"] not in AUDIENCES:
        raise InputError(f"audience must be one of {sorted(AUDIENCES)}", file=str(path), field="audience")
    body = match.group(2)
    parts = _HEADING.split(body)
    sections = {parts[i].strip(): parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    missing = [s for s in SECTIONS if not sections.get(s)]
    if missing:
        raise InputError(f"missing or empty sections: {', '.join(missing)}", file=str(path))
    return Playbook(
        code=meta["code"],
        title=str(meta["title"]),
        severity=Severity(meta["severity"]),
        audience=str(meta["audience"]),
        sections={k: sections[k] for k in SECTIONS},
    )


@lru_cache(maxsize=4)
def load_playbooks(directory: Path = PLAYBOOK_DIR) -> dict[str, Playbook]:
    """Every playbook by code (cached: they are read once per process)."""
    return {p.stem: parse_playbook(p) for p in sorted(directory.glob("*.md"))}


def playbook_for(finding: Finding | str) -> Playbook | None:
    code = finding if isinstance(finding, str) else finding.code
    return load_playbooks().get(code)


def catalog() -> dict[str, str]:
    """code -> title: the catalog of finding codes."""
    return {code: pb.title for code, pb in load_playbooks().items()}
