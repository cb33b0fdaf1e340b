"""`redeliver --via PLATFORM`: resend a plan's events with the platform's own resend call.

The platform signs the resend with the customer's real secret and shows it in its dashboard, so
no secret is needed here. Everything else is a direct resend's: the selection, the pacing, the
breaker and the ledger (`redeliver.select`, `redeliver.send_all`); a rerun skips every event the
platform already accepted (2xx). Before anything is sent or stored, the token and the scope are
checked with one read (`Resender.check`). The id each call takes comes from the log's
`native_ids` (GitHub's numeric delivery id, Convoy's event delivery id); an event without it is
reported, not sent.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.platforms.common import guarded_http
from diagnostics.platforms.github_app import load_app_credentials
from diagnostics.platforms.resend import RESENDERS, Auth, Resender
from diagnostics.platforms.settings import api_base_url, api_policy
from diagnostics.recovery.categories import SAFE_BY_DEFAULT
from diagnostics.recovery.ledger import Ledger, ledger_path
from diagnostics.recovery.redeliver import Progress, RedeliverRun, select, send_all

NEEDS = {"event_id": "event id", "delivery_id": "GitHub delivery id", "event_delivery_id": "Convoy event delivery id"}


def native_ids(sources: Sequence[str], endpoint: str, event_ids: Sequence[str],
               *keys: str) -> dict[str, dict[str, str]]:
    """event id -> {key: value} from the latest attempt of the event that has each key (`native_ids`)."""
    if not sources or any("***" in s for s in sources):
        raise InputError("the plan does not name a readable delivery log for the platform's ids; give it with --log",
                         field="--log")
    attempts = load_attempts(list(sources), endpoint=endpoint)
    found: dict[str, dict[str, str]] = {}
    try:
        columns = [d[0] for d in attempts.conn.execute(f"SELECT * FROM {attempts.name} LIMIT 0").description]
        if "native_ids" not in columns:
            return found
        attempts.conn.register("_resend_ids", pa.table({"event_id": pa.array(list(event_ids), pa.string())}))
        picks = ", ".join(
            f"arg_max(json_extract_string(a.native_ids, '$.{k}'), a.attempted_at) "
            f"FILTER (WHERE json_extract_string(a.native_ids, '$.{k}') IS NOT NULL) AS \"{k}\"" for k in keys)
        rows = attempts.conn.execute(
            f"""SELECT a.event_id, {picks} FROM {attempts.name} AS a
                JOIN _resend_ids AS i ON i.event_id = a.event_id
                WHERE a.native_ids IS NOT NULL AND json_valid(a.native_ids) GROUP BY a.event_id"""
        ).fetchall()
    finally:
        attempts.conn.close()
    for event_id, *values in rows:
        found[event_id] = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
    return found


def _idempotency_key(plan_path: str, native_id: str) -> str:
    """The same key for the same event of the same plan: a rerun's resend of it is deduplicated."""
    digest = hashlib.sha256(f"{Path(plan_path).resolve()}\0{native_id}".encode()).hexdigest()[:32]
    return f"webhook-doctor-{digest}"


def _convoy_project(scope: dict[str, str], ids: Mapping[str, Mapping[str, str]]) -> None:
    """Convoy's project: --project, or the one project the log's attempts name."""
    if scope.get("project"):
        return
    projects = {v["project_id"] for v in ids.values() if v.get("project_id")}
    if len(projects) != 1:
        why = "the log names none" if not projects else f"the log names {len(projects)}"
        raise InputError(f"give the Convoy project with --project ({why})", field="--project")
    scope["project"] = projects.pop()


def redeliver_via(
    plan_path: str,
    via: str,
    *,
    config: Config,
    token: str | None,
    scope: Mapping[str, str | None],
    base_url: str | None = None,
    rate: float | None = None,
    concurrency: int | None = None,
    categories: Sequence[str] = SAFE_BY_DEFAULT,
    dry_run: bool = False,
    stop_after: int | None = None,
    endpoint: str | None = None,
    log: Sequence[str] = (),
    allow: Sequence[str] = (),
    progress: Progress | None = None,
) -> RedeliverRun:
    """Resend the plan's selected events through `via`'s API (see the module doc)."""
    resender: Resender | None = RESENDERS.get(via)
    if resender is None:
        raise InputError(f"unknown platform {via!r}; known: {', '.join(RESENDERS)}", field="--via")
    token = (token or "").strip()
    key_file = scope.get("private_key")
    auth: Auth = lambda: token  # noqa: E731 (a fixed API token)
    if via == "github" and (scope.get("app_id") or key_file):
        if not (scope.get("app_id") and key_file):
            raise InputError("a GitHub App's hook needs both --app-id and --private-key", field="--app-id")
        auth = load_app_credentials(str(scope["app_id"]), str(key_file)).bearer  # its JWT, renewed as it ages
    elif not token and not dry_run:
        raise InputError(f"a {resender.label} API token is needed to resend through it (--token -); or use --dry-run",
                         field="--token")
    base = api_base_url(config, via, base_url)
    chosen = select(plan_path, "", config=config, rate=rate, concurrency=concurrency, categories=categories,
                    dry_run=dry_run, stop_after=stop_after, endpoint=endpoint)
    plan, run = chosen.plan, chosen.run
    where: dict[str, str] = {k: str(v) for k, v in scope.items() if v and k != "private_key"}
    where["endpoint"] = plan["endpoint"]
    pending = chosen.pending
    run.via, run.needs = resender.label, NEEDS[resender.id_key]
    if not pending:  # every selected event was accepted by an earlier run
        run.to = resender.describe(where)
        return run
    keys = (resender.id_key, "project_id") if via == "convoy" else (resender.id_key,)
    if resender.id_key == "event_id" and via != "convoy":
        ids = {e: {"event_id": e} for e in pending}
    else:
        ids = native_ids(log or plan.get("sources") or [], plan["endpoint"], pending, *keys)
    if via == "convoy":
        _convoy_project(where, ids)
    missing = [f for f in resender.scope_flags if not where.get(f.lstrip("-").replace("-", "_"))]
    if resender.scope_flags and len(missing) == len(resender.scope_flags):
        raise InputError(f"give the {resender.label} scope with {' or '.join(resender.scope_flags)}",
                         field=resender.scope_flags[0])
    run.to = resender.describe(where)
    run.without_payload = [i for i in pending if resender.id_key not in ids.get(i, {})]
    run.to_send = [i for i in pending if resender.id_key in ids.get(i, {})]
    run.in_flight_before = [i for i in run.to_send if i in chosen.in_flight]
    if dry_run or not run.to_send:
        return run
    policy = api_policy(config, allow)

    async def main() -> None:
        http, _transport = guarded_http(policy)
        async with http:
            await resender.check(http, base, auth, where)  # a bad token or scope: nothing sent, nothing stored
            ledger = Ledger(ledger_path(plan_path))
            try:
                async def send(event_id: str) -> tuple[int | None, str | None]:
                    native = ids[event_id][resender.id_key]
                    answer = await resender.resend(http, base, auth, where, native,
                                                   _idempotency_key(plan_path, native))
                    return answer.status_code, answer.error

                await send_all(run, send, ledger=ledger, stop_after=chosen.stop_after, progress=progress)
            finally:
                ledger.close()

    asyncio.run(main())
    return run

