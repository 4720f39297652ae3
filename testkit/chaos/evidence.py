"""What the chats and KIE's log of callback attempts show after a chaos run: deliveries, duplicates, and
the webhook's answer to every callback."""

from __future__ import annotations

from typing import Any

from contracts.models import GenerationResult
from testkit.chaos.plan import Run
from testkit.harness import Harness

RECONNECT_GRACE = 1.0  # seconds after a restart a 503 is still the outage's


async def deliveries(h: Harness, run: Run, succeeded: dict[str, GenerationResult]) -> dict[str, Any]:
    """Each success's recorded Telegram file ids must be in its chat; media nobody recorded are duplicates."""
    rows = await h.pool.fetch(
        "SELECT id, user_id, telegram_file_ids FROM generations WHERE id = ANY($1)", list(succeeded)
    )
    by_id = {r["id"]: r for r in rows}
    chats: dict[int, dict[str, int]] = {}  # user -> file_id (or link:<message id>) -> messages
    for user in run.users:
        chat = await h.telegram_get(f"/_sim/chats/{user}")
        seen: dict[str, int] = {}
        for message in (chat.get("chat") or {}).get("messages", []):
            if message["sender"] != "bot" or message["deleted"]:
                continue
            if message["media"]:
                file_id = message["media"][0]["file_id"]
                seen[file_id] = seen.get(file_id, 0) + 1
            else:
                seen[f"link:{message['message_id']}"] = 1
        chats[user] = seen
    missing: list[str] = []
    delivered = expected = blocked = referenced = 0
    for gid, result in succeeded.items():
        row = by_id.get(gid)
        user = row["user_id"] if row else int(gid.split("-")[1])
        if user == run.blocked_user:
            blocked += 1
            continue
        expected += 1
        file_ids = list((row["telegram_file_ids"] if row else None) or [])
        if result.delivered and file_ids and all(chats[user].get(f) for f in file_ids):
            delivered += 1
            referenced += sum(1 for f in file_ids if not f.startswith("link:"))
        else:
            missing.append(gid)
    media_messages = sum(
        n
        for user, seen in chats.items()
        if user != run.blocked_user
        for key, n in seen.items()
        if not key.startswith("link:")
    )
    return {
        "expected": expected,
        "delivered": delivered,
        "missing": missing,
        "media_messages": media_messages,
        "duplicates": media_messages - referenced,
        "blocked_successes": blocked,
    }


async def webhook_answers(h: Harness, run: Run) -> dict[str, Any]:
    """Every callback attempt the KIE simulator made for these generations, with the webhook's answer."""
    began_ms = int(run.began * 1000) - 1000
    ours = set(run.ids)
    tasks = (await h.kie_get("/_sim/tasks"))["tasks"]
    by_status: dict[str, int] = {}
    bad: list[dict[str, Any]] = []
    attempts = 0
    tasks_per_generation: dict[str, int] = {}
    for summary in tasks:
        if summary["createTime"] < began_ms:
            continue
        details = await h.kie_task(summary["taskId"])
        if not details or not details.get("callBackUrl"):
            continue
        workflow_id = details["callBackUrl"].split("/kie/callback/", 1)[1].split("?", 1)[0]
        if workflow_id not in ours:
            continue
        tasks_per_generation[workflow_id] = tasks_per_generation.get(workflow_id, 0) + 1
        for record in details["callbacks"]:
            if record["outcome"] in ("lost", "given_up"):
                continue
            attempts += 1
            status = record["status"]
            key = str(status) if status is not None else f"error:{(record.get('error') or '')[:40]}"
            by_status[key] = by_status.get(key, 0) + 1
            at = record["at_ms"] / 1000 - run.began
            # The webhook reads the generation's row before it signals: it answers 503 (KIE retries) while
            # Temporal or PostgreSQL is down, and while its pool reconnects just after.
            outages = run.temporal_down + run.postgres_down
            unavailable = any(a <= at <= b + RECONNECT_GRACE for a, b in outages)
            # Behind nginx (replicas) a replica restarting while the other waits out the outage makes the
            # proxy answer 502 rather than 503: the same outage, and KIE retries it alike.
            excused = (503, 502) if h.stack.replicas > 1 else (503,)
            if status is None or (status >= 500 and not (status in excused and unavailable)):
                bad.append({"task": summary["taskId"], "at_s": round(at, 1), "status": status, **record})
    several = sum(1 for n in tasks_per_generation.values() if n > 1)
    return {"attempts": attempts, "by_status": by_status, "bad": bad, "several_tasks": several}
