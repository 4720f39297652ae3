"""Hostile requests against ``POST /kie/callback/{workflow_id}``: none may signal, none may get a 5xx.

Requests are forged (bad or borrowed URL tokens), malformed (paths, methods, bodies), oversized (with and
without Content-Length, a gzip bomb), replayed (genuinely signed callbacks outside the signature window, or
moved to another generation's URL) and wrongly signed; a share is raw HTTP written to the socket. The targets
are real generations waiting for a KIE task that never finishes, so any request that got through would show as
a ``WorkflowExecutionSignaled`` event in their histories and in ``callbacks_received``.

An exact replay of a genuine callback inside the signature window is *accepted* by design (KIE's own retries
look the same) and de-duplicated by the workflow; it is therefore not part of this set.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import gzip
import hashlib
import hmac
import random
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import aiohttp
from temporalio.api.enums.v1 import EventType

from bench.harness import Check, Harness, failed, rss_mb
from kie.signature import callback_token, kie_signature
from workflows.generation import GenerationWorkflow

MODEL = "google/nano-banana"
MAX_BODY = 1_000_000


@dataclass
class FuzzPlan:
    requests: int = 5000
    seed: int = 7
    targets: int = 3
    concurrency: int = 20
    warmup: int = 200
    rss_margin_mb: float = 15.0


@dataclass
class Probe:
    category: str
    case: str
    method: str = "POST"
    path: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    chunked: bool = False
    raw: bytes | None = None  # written to the socket as is
    oversized: bool = False  # the server may close the connection before reading it all


@dataclass
class FuzzReport:
    requests: int
    categories: dict[str, int]
    statuses: dict[str, int]
    server_5xx: list[dict[str, Any]]
    unexpected_2xx: list[dict[str, Any]]
    signals: dict[str, int]
    callbacks_received: dict[str, int]
    rss_before_mb: float
    rss_after_mb: float
    alive: bool
    seconds: float
    checks: list[Check] = field(default_factory=list)


# ---- the requests
class Forger:
    def __init__(self, h: Harness, targets: list[tuple[str, str]], rng: random.Random) -> None:
        self.h = h
        self.targets = targets
        self.rng = rng
        self.secret = h.secret("callback")
        self.hmac_key = h.secret("kie-webhook-hmac")

    # valid pieces
    def token(self, workflow_id: str) -> str:
        return callback_token(self.secret, workflow_id)

    def signed(self, task_id: str, ts: int | None = None) -> dict[str, str]:
        ts = int(time.time()) if ts is None else ts
        return {
            "X-Webhook-Timestamp": str(ts),
            "X-Webhook-Signature": kie_signature(self.hmac_key, task_id, ts),
            "Content-Type": "application/json",
        }

    @staticmethod
    def body(task_id: Any) -> bytes:
        import json

        return json.dumps(
            {"code": 200, "msg": "ok", "data": {"taskId": task_id, "state": "success"}}
        ).encode()

    def pick(self) -> tuple[str, str]:
        return self.rng.choice(self.targets)

    def other(self, workflow_id: str) -> tuple[str, str]:
        others = [t for t in self.targets if t[0] != workflow_id]
        return self.rng.choice(others) if others else (f"gen-1-{self.rand_text(8)}", "f" * 32)

    def rand_text(self, n: int, alphabet: str = "abcdefghijklmnopqrstuvwxyz0123456789-_") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def url(self, workflow_id: str, token: str | None) -> str:
        return f"/kie/callback/{workflow_id}" + ("" if token is None else f"?t={token}")

    # categories
    def forged_token(self) -> Probe:
        wid, task = self.pick()
        other_wid, _ = self.other(wid)
        good = self.token(wid)
        flipped = good[:-1] + ("A" if good[-1] != "A" else "B")
        wrong_secret = (
            base64.urlsafe_b64encode(hmac.new(b"not-our-secret", wid.encode(), hashlib.sha256).digest())
            .rstrip(b"=")
            .decode()
        )
        cases = {
            "no_token": self.url(wid, None),
            "empty_token": self.url(wid, ""),
            "random_token": self.url(wid, self.rand_text(43)),
            "other_generations_token": self.url(wid, self.token(other_wid)),
            "flipped_char": self.url(wid, flipped),
            "upper_case": self.url(wid, good.upper()) if good.upper() != good else self.url(wid, "X" + good),
            "wrong_secret": self.url(wid, wrong_secret),
            "bad_then_good": f"/kie/callback/{wid}?t={flipped}&t={good}",
            "padded": self.url(wid, good + "=="),
            "huge_token": self.url(wid, "A" * 4000),
        }
        case = self.rng.choice(sorted(cases))
        return Probe("forged_token", case, path=cases[case], headers=self.signed(task), body=self.body(task))

    def bad_path(self) -> Probe:
        wid, task = self.pick()
        ids = {
            "letters_for_user": "gen-abc-key",
            "empty_key": "gen-1-",
            "user_too_long": "gen-" + "1" * 21 + "-key",
            "key_too_long": "gen-1-" + "a" * 65,
            "upper_prefix": "GEN-1-key",
            "nul_byte": "gen-1-key%00",
            "unicode": "gen-1-%D0%BA%D0%BB%D1%8E%D1%87",
            "traversal": "gen-1-key%2F..%2F..%2Fhealthz",
            "dots": "..",
            "unknown_generation": f"gen-{self.rng.randint(1, 10**9)}-{self.rand_text(12)}",
            "sql": "gen-1-x'%20OR%201=1--",
            "space": "gen-1-key%20",
        }
        case = self.rng.choice(sorted(ids))
        workflow_id = ids[case]
        # A valid token for that exact id where it could be valid at all: only the path itself is wrong.
        token = self.token(workflow_id)
        method = "POST"
        if self.rng.random() < 0.25:
            method = self.rng.choice(["GET", "PUT", "DELETE", "PATCH"])
            workflow_id, token, case = wid, self.token(wid), f"method_{method.lower()}"
        return Probe(
            "bad_path",
            case,
            method=method,
            path=f"/kie/callback/{workflow_id}?t={token}",
            headers=self.signed(task),
            body=self.body(task),
        )

    def malformed_body(self) -> Probe:
        wid, task = self.pick()
        bodies: dict[str, bytes] = {
            "empty": b"",
            "not_json": b"this is not json",
            "truncated": self.body(task)[:-3],
            "array": b"[]",
            "null": b"null",
            "number": b"123",
            "string": b'"taskId"',
            "data_not_object": b'{"data": "x"}',
            "task_id_int": b'{"taskId": 123}',
            "task_id_list": b'{"taskId": ["a"]}',
            "task_id_object": b'{"data": {"taskId": {"a": 1}}}',
            "task_id_empty": b'{"taskId": ""}',
            "task_id_blank": b'{"taskId": "   "}',
            "task_ids_disagree": b'{"taskId": "a", "data": {"taskId": "b"}}',
            "nan": b'{"taskId": NaN}',
            "invalid_utf8": b'{"taskId": "\xff\xfe"}',
            # A BOM is fine (json.loads strips it); the body names another task under this task's signature.
            "bom_other_task": b"\xef\xbb\xbf" + self.body(self.other(wid)[1]),
            "deep_nesting": b"[" * 50_000 + b"]" * 50_000,
            "deep_object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
            "huge_int": b'{"taskId": "x", "n": ' + b"9" * 5000 + b"}",
            "huge_float": b'{"data": {"taskId": 1e999999}}',
            "many_keys": b"{" + b",".join(b'"k%d": 1' % i for i in range(20_000)) + b"}",
            "control_chars": b'{"taskId": "\x00\x01\x02"}',
        }
        case = self.rng.choice(sorted(bodies))
        headers = {
            "Content-Type": self.rng.choice(
                ["application/json", "text/plain", "application/x-www-form-urlencoded"]
            )
        }
        # Signed for the target's task: only the body is wrong.
        headers |= {k: v for k, v in self.signed(task).items() if k != "Content-Type"}
        return Probe(
            "malformed_body", case, path=self.url(wid, self.token(wid)), headers=headers, body=bodies[case]
        )

    def oversized(self) -> Probe:
        wid, task = self.pick()
        path = self.url(wid, self.token(wid))
        headers = self.signed(task)
        padding = b" " * (MAX_BODY + 1 + self.rng.randint(0, 4096))
        cases = {
            "content_length": Probe(
                "oversized",
                "content_length",
                path=path,
                headers=headers,
                body=self.body(task)[:-1] + padding + b"}",
                oversized=True,
            ),
            "chunked": Probe(
                "oversized",
                "chunked",
                path=path,
                headers=headers,
                body=self.body(task)[:-1] + padding + b"}",
                chunked=True,
                oversized=True,
            ),
            "gzip_bomb": Probe(  # 20 MB of JSON whitespace in ~20 KB
                "oversized",
                "gzip_bomb",
                path=path,
                headers=headers | {"Content-Encoding": "gzip"},
                body=_gzip_bomb(),
                oversized=True,
            ),
            "bad_gzip": Probe(
                "oversized",
                "bad_gzip",
                path=path,
                headers=headers | {"Content-Encoding": "gzip"},
                body=b"\x1f\x8b\x08garbage",
            ),
            "lying_content_length": Probe(
                "oversized",
                "lying_content_length",
                raw=(
                    f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: 2000000000\r\n\r\n"
                ).encode()
                + self.body(task),
                oversized=True,
            ),
        }
        return cases[self.rng.choice(sorted(cases))]

    def replayed(self) -> Probe:
        wid, task = self.pick()
        other_wid, other_task = self.other(wid)
        now = int(time.time())
        cases = {
            # A genuine capture, replayed after the signature window closed.
            "stale": (
                self.url(wid, self.token(wid)),
                self.signed(task, now - self.rng.randint(301, 86_400)),
                self.body(task),
            ),
            "from_the_future": (
                self.url(wid, self.token(wid)),
                self.signed(task, now + self.rng.randint(301, 86_400)),
                self.body(task),
            ),
            # A genuine callback of one generation pointed at another one's URL (its own token travels along).
            "other_generations_url": (
                self.url(other_wid, self.token(wid)),
                self.signed(task),
                self.body(task),
            ),
            # One task's signature carried over to another task's body.
            "signature_of_other_task": (
                self.url(wid, self.token(wid)),
                self.signed(other_task),
                self.body(task),
            ),
            "timestamp_swapped": (
                self.url(wid, self.token(wid)),
                {**self.signed(task, now - 10), "X-Webhook-Timestamp": str(now)},
                self.body(task),
            ),
        }
        case = self.rng.choice(sorted(cases))
        path, headers, body = cases[case]
        return Probe("replayed", case, path=path, headers=headers, body=body)

    def wrong_signature(self) -> Probe:
        wid, task = self.pick()
        good = self.signed(task)
        ts = good["X-Webhook-Timestamp"]
        cases: dict[str, dict[str, str]] = {
            "missing_both": {},
            "missing_signature": {"X-Webhook-Timestamp": ts},
            "missing_timestamp": {"X-Webhook-Signature": good["X-Webhook-Signature"]},
            "random_base64": {
                "X-Webhook-Timestamp": ts,
                "X-Webhook-Signature": base64.b64encode(self.rng.randbytes(32)).decode(),
            },
            "other_key": {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": kie_signature("other", task, ts)},
            "hex_digest": {
                "X-Webhook-Timestamp": ts,
                "X-Webhook-Signature": hmac.new(
                    self.hmac_key.encode(), f"{task}.{ts}".encode(), hashlib.sha256
                ).hexdigest(),
            },
            "empty": {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": ""},
            "very_long": {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": "A" * 7000},
            "timestamp_letters": {
                "X-Webhook-Timestamp": "abc",
                "X-Webhook-Signature": good["X-Webhook-Signature"],
            },
            "timestamp_float": {
                "X-Webhook-Timestamp": ts + ".5",
                "X-Webhook-Signature": good["X-Webhook-Signature"],
            },
            "timestamp_5000_digits": {"X-Webhook-Timestamp": "1" * 5000, "X-Webhook-Signature": "x"},
            "timestamp_negative": {
                "X-Webhook-Timestamp": "-" + ts,
                "X-Webhook-Signature": good["X-Webhook-Signature"],
            },
            "non_ascii": {"X-Webhook-Timestamp": ts, "X-Webhook-Signature": "sïgnätürë"},
            "signature_case": {
                "X-Webhook-Timestamp": ts,
                "X-Webhook-Signature": good["X-Webhook-Signature"].swapcase(),
            },
        }
        case = self.rng.choice(sorted(cases))
        headers = {"Content-Type": "application/json", **cases[case]}
        return Probe(
            "wrong_signature",
            case,
            path=self.url(wid, self.token(wid)),
            headers=headers,
            body=self.body(task),
        )

    def raw_http(self) -> Probe:
        wid, task = self.pick()
        path = self.url(wid, self.token(wid))
        body = self.body(task)
        cases = {
            "garbage": b"GARBAGE\r\n\r\n",
            "http09": b"GET /\r\n",
            "long_request_line": b"POST /kie/callback/" + b"a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
            "long_header": f"POST {path} HTTP/1.1\r\nHost: x\r\nX-Big: ".encode()
            + b"b" * 20_000
            + b"\r\n\r\n",
            "many_headers": f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
            + b"".join(b"X-H%d: v\r\n" % i for i in range(500))
            + b"\r\n",
            "bad_chunk_size": f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
            + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
            "negative_length": f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".encode(),
            "letters_length": f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n".encode(),
            "cl_and_te": f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n".encode(),
            "nul_in_path": b"POST /kie/callback/gen-1-a\x00b HTTP/1.1\r\nHost: x\r\n\r\n",
            "unsigned_valid_json": f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            f"Content-Type: application/json\r\n\r\n".encode()
            + body,
            "short_body": f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
            + f"Content-Length: {len(body) + 50}\r\n\r\n".encode()
            + body,
        }
        case = self.rng.choice(sorted(cases))
        return Probe("raw_http", case, raw=cases[case])

    def next(self) -> Probe:
        kinds = [
            (self.forged_token, 20),
            (self.bad_path, 15),
            (self.malformed_body, 20),
            (self.oversized, 4),
            (self.replayed, 15),
            (self.wrong_signature, 20),
            (self.raw_http, 6),
        ]
        make = self.rng.choices([k for k, _ in kinds], weights=[w for _, w in kinds])[0]
        return make()


@functools.cache
def _gzip_bomb() -> bytes:
    return gzip.compress(b"[" + b" " * (20 * MAX_BODY) + b"]", 9)


# ---- sending
async def send(session: aiohttp.ClientSession, base: str, probe: Probe) -> str:
    """The HTTP status as text, or ``closed`` when the server dropped the connection without answering."""
    if probe.raw is not None:
        return await _send_raw(base, probe.raw)
    data: Any = probe.body
    if probe.chunked and probe.body is not None:
        payload = probe.body

        async def chunks():
            for i in range(0, len(payload), 64 * 1024):
                yield payload[i : i + 64 * 1024]

        data = chunks()
    try:
        async with session.request(
            probe.method,
            base + probe.path,
            data=data,
            headers=probe.headers,
            skip_auto_headers={"Content-Type"},
        ) as response:
            await response.read()
            return str(response.status)
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientPayloadError):
        return "closed"


async def _send_raw(base: str, raw: bytes) -> str:
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(raw)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout=10)
    except (ConnectionError, TimeoutError):
        return "closed"
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass
    parts = line.split()
    return parts[1].decode() if len(parts) >= 2 and parts[1].isdigit() else "closed"


# ---- the run
async def start_targets(h: Harness, count: int) -> list[tuple[str, str]]:
    """Real generations waiting for a KIE task that takes an hour and calls back only when done."""
    await h.kie_config(slow_latency=3600.0)
    user = await h.new_user(credits=1_000)
    handles = [await h.generate(user, MODEL, {"prompt": f"fuzz target {i} [sim:slow]"}) for i in range(count)]
    targets = []
    for handle in handles:
        for _ in range(600):
            status = await handle.query(GenerationWorkflow.status)
            if status.task_ids:
                targets.append((handle.id, status.task_ids[0]))
                break
            await asyncio.sleep(0.05)
        else:
            raise TimeoutError(f"{handle.id} never submitted its KIE task")
    return targets


async def finish_targets(h: Harness, targets: list[tuple[str, str]]) -> None:
    """Let the targets end normally (their KIE tasks complete, the real callbacks arrive)."""
    for _, task_id in targets:
        await h.http.post(f"{h.kie}/_sim/tasks/{task_id}/complete", json={"outcome": "success"})


async def count_signals(h: Harness, targets: list[tuple[str, str]]) -> tuple[dict[str, int], dict[str, int]]:
    signals, received = {}, {}
    for workflow_id, _ in targets:
        handle = h.client.get_workflow_handle(workflow_id)
        history = await handle.fetch_history()
        signals[workflow_id] = sum(
            e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED for e in history.events
        )
        received[workflow_id] = (await handle.query(GenerationWorkflow.status)).callbacks_received
    return signals, received


async def run_fuzz(h: Harness, plan: FuzzPlan) -> FuzzReport:
    rng = random.Random(plan.seed)
    began = time.time()
    slow_latency = (await h.kie_get("/_sim/config"))["slow_latency"]
    targets = await start_targets(h, plan.targets)
    forger = Forger(h, targets, rng)
    statuses: dict[str, int] = {}
    categories: dict[str, int] = {}
    server_5xx: list[dict[str, Any]] = []
    unexpected_2xx: list[dict[str, Any]] = []
    pid = h.pid("webhooks")

    async def fire(count: int) -> None:
        probes = [forger.next() for _ in range(count)]
        queue: asyncio.Queue[Probe] = asyncio.Queue()
        for probe in probes:
            queue.put_nowait(probe)
        timeout = aiohttp.ClientTimeout(total=30)
        # A connection per request: the server may close one after a 413, and a reused connection would then
        # look like a dropped request.
        connector = aiohttp.TCPConnector(force_close=True, limit=plan.concurrency)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, auto_decompress=False
        ) as session:

            async def worker() -> None:
                while not queue.empty():
                    probe = queue.get_nowait()
                    status = await send(session, h.webhooks, probe)
                    statuses[status] = statuses.get(status, 0) + 1
                    key = f"{probe.category}:{probe.case}"
                    categories[probe.category] = categories.get(probe.category, 0) + 1
                    if status.isdigit() and int(status) >= 500:
                        server_5xx.append({"probe": key, "status": status})
                    elif status.isdigit() and int(status) < 300:
                        unexpected_2xx.append({"probe": key, "status": status})
                    elif status == "closed" and not probe.oversized and probe.raw is None:
                        unexpected_2xx.append({"probe": key, "status": "closed"})

            await asyncio.gather(*(worker() for _ in range(plan.concurrency)))

    try:
        await fire(plan.warmup)
        rss_before = rss_mb(pid)
        await fire(plan.requests - plan.warmup)
        await asyncio.sleep(1.0)
        alive = h.alive("webhooks")
        rss_after = rss_mb(pid) if alive else float("nan")
        async with h.http.get(f"{h.webhooks}/healthz") as response:
            alive = alive and response.status == 200
        signals, received = await count_signals(h, targets)
    finally:
        await finish_targets(h, targets)
        await h.kie_config(slow_latency=slow_latency)

    report = FuzzReport(
        requests=plan.requests,
        categories=categories,
        statuses=dict(sorted(statuses.items())),
        server_5xx=_summarise(server_5xx),
        unexpected_2xx=_summarise(unexpected_2xx),
        signals=signals,
        callbacks_received=received,
        rss_before_mb=round(rss_before, 1),
        rss_after_mb=round(rss_after, 1),
        alive=alive,
        seconds=round(time.time() - began, 1),
    )
    report.checks = [
        Check(
            "zero signals from hostile requests",
            "PASS" if not any(signals.values()) and not any(received.values()) else "FAIL",
            f"signals in target histories {sum(signals.values())}, callbacks_received "
            f"{sum(received.values())} ({len(targets)} waiting generations)",
        ),
        Check(
            "zero 5xx",
            "PASS" if not server_5xx else "FAIL",
            f"{len(server_5xx)} answers >= 500" + (f": {report.server_5xx[:4]}" if server_5xx else ""),
        ),
        Check(
            "nothing accepted",
            "PASS" if not unexpected_2xx else "FAIL",
            f"{len(unexpected_2xx)} 2xx (or dropped well-formed requests)"
            + (f": {report.unexpected_2xx[:4]}" if unexpected_2xx else ""),
        ),
        Check("webhook process alive", "PASS" if alive else "FAIL", "healthz 200" if alive else "dead"),
        Check(
            "webhook memory flat",
            "PASS" if rss_after - rss_before <= plan.rss_margin_mb else "FAIL",
            f"RSS {report.rss_before_mb} MB -> {report.rss_after_mb} MB after {plan.requests - plan.warmup} "
            f"requests (margin {plan.rss_margin_mb} MB)",
        ),
    ]
    return report


def _summarise(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    counts: dict[tuple[str, str], int] = {}
    for item in items:
        key = (item["probe"], item["status"])
        counts[key] = counts.get(key, 0) + 1
    return [{"probe": p, "status": s, "count": n} for (p, s), n in sorted(counts.items())]


def main() -> None:
    import argparse
    import os
    import sys

    from bench.harness import machine, print_checks, write_results

    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=FuzzPlan.requests)
    parser.add_argument("--seed", type=int, default=FuzzPlan.seed)
    args = parser.parse_args()

    async def go() -> int:
        async with Harness.start(prefix="genflow-fuzz-") as h:
            report = await run_fuzz(h, FuzzPlan(requests=args.requests, seed=args.seed))
        print_checks(f"Webhook fuzz: {args.requests} requests, seed {args.seed}", report.checks)
        print(f"  categories: {report.categories}\n  statuses: {report.statuses}")
        path = write_results("fuzz", {"machine": machine(), "fuzz": asdict(report)})
        print(f"results: {path}")
        return 1 if failed(report.checks) else 0

    code = asyncio.run(go())
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
