"""The hostile requests: forged URL tokens, malformed paths, bodies and raw HTTP, oversized bodies, replayed
and wrongly signed callbacks, each a :class:`Probe` named by its category and case."""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import hmac
import json
import random
import time
from dataclasses import dataclass, field
from typing import Any

from kie.signature import callback_token, kie_signature
from testkit.harness import Harness

MAX_BODY = 1_000_000  # the webhooks server's WEBHOOKS_MAX_BODY_BYTES


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
