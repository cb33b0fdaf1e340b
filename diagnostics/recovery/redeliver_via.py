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
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from diagnostics.config import Config
from diagnostics.errors import InputError
from diagnostics.logs import load_attempts
from diagnostics.logs.timestamps import parse_timestamp
from diagnostics.platforms.common import guarded_http
from diagnostics.platforms.github_app import load_app_credentials
from diagnostics.platforms.resend import RESENDERS, Auth, Batch, Resender
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


def _scope_from_log(resender: Resender, scope: dict[str, str], ids: Mapping[str, Mapping[str, str]]) -> None:
    """A scope not given that the log names (Convoy's project): the one value the events' ids carry."""
    for key, native in resender.scope_from_log:
        if scope.get(key):
            continue
        values = {v[native] for v in ids.values() if v.get(native)}
        if len(values) != 1:
            why = "the log names none" if not values else f"the log names {len(values)}"
            raise InputError(f"give the {resender.label} {key} with --{key} ({why})", field=f"--{key}")
        scope[key] = values.pop()


async def _send_bulk(run: RedeliverRun, resender: Resender, http: Any, base: str, auth: Auth,
                     where: Mapping[str, str], ids: Mapping[str, Mapping[str, str]], plan: Mapping[str, Any],
                     ledger: Ledger, plan_path: str, progress: Progress | None) -> None:
    """The selection in bulk calls of `bulk_size` ids, each recorded for its events in the ledger;
    a call not answered 2xx stops the run (the events after it are not sent)."""
    assert resender.bulk is not None
    first_at = {e["event_id"]: parse_timestamp(str(e["first_at"])) for e in plan["events"] if e.get("first_at")}
    started = time.monotonic()
    calls = 0
    since = until = None
    for start in range(0, len(run.to_send), resender.bulk_size):
        chunk = run.to_send[start:start + resender.bulk_size]
        times = [first_at[e] for e in chunk if e in first_at]
        batch = Batch(tuple(ids[e][resender.id_key] for e in chunk), min(times), max(times) + timedelta(seconds=1))
        since, until = min(since or batch.since, batch.since), max(until or batch.until, batch.until)
        rows = await asyncio.gather(*(ledger.intent(run.run_id, e, run.endpoint, run.to) for e in chunk))
        sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        began = time.monotonic()
        answer = await resender.bulk(http, base, auth, where, batch, _idempotency_key(plan_path, ",".join(batch.ids)))
        duration = (time.monotonic() - began) * 1000.0
        calls += 1
        await asyncio.gather(*(ledger.answer(row, answer.status_code, answer.error, duration) for row in rows))
        run.sends.extend({"event_id": e, "sent_at": sent_at, "status_code": answer.status_code, "error": answer.error,
                          "duration_ms": round(duration, 1)} for e in chunk)
        if progress:
            progress(len(run.sends), len(run.to_send))
        if not (answer.status_code is not None and 200 <= answer.status_code <= 299):
            run.stopped = f"the {resender.bulk_call} call was answered {answer.status_code or answer.error}"
            break
    sent = set(run.to_send)
    also = sum(1 for e, at in first_at.items() if e not in sent and since is not None and since <= at < until)
    run.bulk = {"call": resender.bulk_call, "calls": calls, "since": since.isoformat() if since else None,
                "until": until.isoformat() if until else None,
                "also_in_window": also if resender.bulk_by_window else 0}
    run.elapsed_s = time.monotonic() - started


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
    bulk: bool = False,
    progress: Progress | None = None,
) -> RedeliverRun:
    """Resend the plan's selected events through `via`'s API (see the module doc); with `bulk`,
    with the platform's bulk call (`Resender.bulk`) instead of one call per event."""
    resender: Resender | None = RESENDERS.get(via)
    if resender is None:
        raise InputError(f"unknown platform {via!r}; known: {', '.join(RESENDERS)}", field="--via")
    if bulk and resender.bulk is None:
        raise InputError(f"{resender.label} has no bulk resend call: leave out --bulk (each event is then resent "
                         "with its own call)", field="--bulk")
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
    keys = (resender.id_key, *(native for _key, native in resender.scope_from_log))
    if keys == ("event_id",):  # the call takes the event id as logged: nothing to look up
        ids = {e: {"event_id": e} for e in pending}
    else:
        ids = native_ids(log or plan.get("sources") or [], plan["endpoint"], pending, *keys)
    _scope_from_log(resender, where, ids)
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

                if bulk:
                    await _send_bulk(run, resender, http, base, auth, where, ids, plan, ledger, plan_path, progress)
                else:
                    await send_all(run, send, ledger=ledger, stop_after=chosen.stop_after, progress=progress)
            finally:
                ledger.close()

    asyncio.run(main())
    return run

