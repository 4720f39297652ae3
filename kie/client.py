"""The async HTTP client for KIE.

It makes exactly one HTTP request per call and never retries: Temporal activities own retries, and a
retried *create* can bill a second task (KIE has no idempotency key). Every failure surfaces as a
``KieError`` whose ``kind`` says whether retrying makes sense.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import time
from collections.abc import AsyncIterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import IO, Any

import aiohttp
from pydantic import SecretStr

from kie.adapters import adapter_for
from kie.envelope import ok_data
from kie.errors import KieError, KieNetworkError, KieParseError
from kie.fields import mapping, reading, text
from kie.models import ModelRef, TaskStatus

log = logging.getLogger(__name__)

UploadData = bytes | bytearray | memoryview | IO[bytes] | AsyncIterable[bytes]

DEFAULT_BASE64_LIMIT = 1_000_000  # bytes; above this, base64 (+33 %) in a JSON body is wasteful


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    body: Any  # decoded JSON, or the raw text of a 2xx answer that is not JSON
    retry_after: float | None


class KieClient:
    """KIE's HTTP API on a caller-owned ``aiohttp.ClientSession``."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        upload_base_url: str,
        api_key: str | SecretStr,
        timeout: float = 30.0,
        upload_timeout: float = 120.0,
        base64_limit: int = DEFAULT_BASE64_LIMIT,
    ) -> None:
        self._session = session
        self._base_url = str(base_url).rstrip("/")
        self._upload_base_url = str(upload_base_url).rstrip("/")
        # Kept as a SecretStr so that no repr, log line or traceback local ever shows it.
        self._api_key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self._timeout = timeout
        self._upload_timeout = upload_timeout
        self._base64_limit = base64_limit

    @property
    def base64_limit(self) -> int:
        """Files up to this many bytes go to KIE as base64 JSON; larger ones are streamed (multipart)."""
        return self._base64_limit

    def with_key(self, api_key: str | SecretStr) -> KieClient:
        """The same client (session, addresses, limits) for another KIE account."""
        return KieClient(
            self._session,
            base_url=self._base_url,
            upload_base_url=self._upload_base_url,
            api_key=api_key,
            timeout=self._timeout,
            upload_timeout=self._upload_timeout,
            base64_limit=self._base64_limit,
        )

    def __repr__(self) -> str:
        return f"KieClient(base_url={self._base_url!r}, upload_base_url={self._upload_base_url!r})"

    # --- tasks -------------------------------------------------------------------------------------

    async def create_task(self, model: ModelRef, inputs: Mapping[str, Any], callback_url: str) -> str:
        """Start a generation; returns KIE's task id. A KieError with ``ambiguous`` set may have
        created the task anyway: do not blindly retry it.

        A few calls first read something the create needs (Suno extend: the earlier task's track id); that
        read creates nothing, so its failures are never ambiguous. Calls that answer with the result
        instead of a task id (Veo 1080P/4K) get a derived task id from their adapter."""
        adapter = adapter_for(model.api)
        lookup = adapter.lookup_request(model, inputs)
        if lookup is not None:
            inputs = await self._look_up(model, inputs, lookup)
        method, path, payload = adapter.create_request(model, inputs, callback_url)
        answer = await self._send(
            method, self._base_url + path, what=f"create {model.id}", **_payload(method, payload)
        )
        with _retry_after_from(answer):
            return adapter.parse_create(answer.body, answer.status, model=model, inputs=inputs)

    async def get_status(self, model: ModelRef, task_id: str) -> TaskStatus:
        adapter = adapter_for(model.api)
        method, path, payload = adapter.status_request(model, task_id)
        answer = await self._send(
            method, self._base_url + path, what=f"status {task_id}", **_payload(method, payload)
        )
        with _retry_after_from(answer):
            return adapter.parse_status(answer.body, answer.status, model, task_id=task_id)

    async def _look_up(
        self, model: ModelRef, inputs: Mapping[str, Any], lookup: tuple[str, str, Mapping[str, Any]]
    ) -> Mapping[str, Any]:
        adapter = adapter_for(model.api)
        method, path, payload = lookup
        try:
            answer = await self._send(
                method, self._base_url + path, what=f"look-up for {model.id}", **_payload(method, payload)
            )
            with _retry_after_from(answer):
                return adapter.resolve_inputs(model, inputs, answer.body, answer.status)
        except KieError as exc:
            exc.ambiguous = False  # only a read: no task exists, whatever happened to it
            raise

    # --- account and files -------------------------------------------------------------------------

    async def get_credits(self) -> int:
        """Credits left on the KIE account."""
        what = "credits"
        answer = await self._send("GET", f"{self._base_url}/api/v1/chat/credit", what=what)
        with _retry_after_from(answer), reading(what):
            data = ok_data(answer.body, answer.status, what=what)
            return _whole_credits(data)

    async def download_url(self, url: str) -> str:
        """A short-lived (about 20 minutes) direct download link for a KIE-hosted file."""
        what = "download-url"
        answer = await self._send(
            "POST", f"{self._base_url}/api/v1/common/download-url", what=what, json_body={"url": url}
        )
        with _retry_after_from(answer), reading(what):
            data = ok_data(answer.body, answer.status, what=what)
            link = text(data) if isinstance(data, str) else text(mapping(data).get("url"))
            if link is None:
                raise KieParseError(f"{what}: the answer holds no link")
            return link

    async def upload(self, data: UploadData, *, file_name: str, upload_path: str, mime_type: str) -> str:
        """Upload a user's file for KIE to fetch; returns the URL to pass as a model input.

        Small in-memory files go as base64 JSON (one simple request); anything larger or streamed
        goes as multipart so it is never held three times in memory.
        """
        if isinstance(data, bytes | bytearray | memoryview) and len(data) <= self._base64_limit:
            return await self.upload_base64(
                bytes(data), file_name=file_name, upload_path=upload_path, mime_type=mime_type
            )
        return await self.upload_stream(
            data, file_name=file_name, upload_path=upload_path, mime_type=mime_type
        )

    async def upload_base64(self, data: bytes, *, file_name: str, upload_path: str, mime_type: str) -> str:
        encoded = base64.b64encode(data).decode("ascii")
        body = {
            "base64Data": f"data:{mime_type};base64,{encoded}",
            "uploadPath": upload_path,
            "fileName": file_name,
        }
        answer = await self._send(
            "POST",
            f"{self._upload_base_url}/api/file-base64-upload",
            what="base64 upload",
            json_body=body,
            time_limit=self._upload_timeout,
        )
        return _download_url_of(answer, what="base64 upload")

    async def upload_stream(
        self, data: UploadData, *, file_name: str, upload_path: str, mime_type: str
    ) -> str:
        form = aiohttp.FormData()
        form.add_field("uploadPath", upload_path)
        form.add_field("fileName", file_name)
        payload = bytes(data) if isinstance(data, bytearray | memoryview) else data
        form.add_field("file", payload, filename=file_name, content_type=mime_type)
        answer = await self._send(
            "POST",
            f"{self._upload_base_url}/api/file-stream-upload",
            what="stream upload",
            form=form,
            time_limit=self._upload_timeout,
        )
        return _download_url_of(answer, what="stream upload")

    # --- transport ---------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        json_body: Any = None,
        params: Mapping[str, str] | None = None,
        form: aiohttp.FormData | None = None,
        time_limit: float | None = None,
    ) -> _Answer:
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}
        if form is None:
            headers["Content-Type"] = "application/json"  # multipart sets its own, with the boundary
        started = time.monotonic()
        try:
            async with self._session.request(
                method,
                url,
                headers=headers,
                params=params,
                data=form if form is not None else (None if json_body is None else json.dumps(json_body)),
                timeout=aiohttp.ClientTimeout(total=time_limit or self._timeout),
            ) as response:
                raw = await response.read()
                status = response.status
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        except aiohttp.ClientConnectorError as exc:
            # Never connected, so KIE cannot have seen the request.
            raise KieNetworkError(f"{what}: cannot connect: {exc}", ambiguous=False) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            # The request may have been sent and acted upon before the exchange broke.
            reason = str(exc) or "timed out"
            raise KieNetworkError(f"{what}: {type(exc).__name__}: {reason}", ambiguous=True) from exc
        log.debug("KIE %s %s -> HTTP %s in %.2fs", method, url, status, time.monotonic() - started)
        return _decode(raw, status, retry_after, what=what)


def _payload(method: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """A GET's payload as its query string (booleans as JSON spells them), a POST's as its JSON body."""
    if method == "GET":
        return {"params": {key: _query_value(value) for key, value in payload.items() if value is not None}}
    return {"json_body": dict(payload)}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _decode(raw: bytes, status: int, retry_after: float | None, *, what: str) -> _Answer:
    try:
        return _Answer(status, json.loads(raw), retry_after)
    except ValueError:
        pass
    snippet = " ".join(raw[:300].decode("utf-8", "replace").split())
    if 200 <= status < 300:
        # Let the reader report it: it knows whether an unreadable OK answer is ambiguous.
        return _Answer(status, snippet, retry_after)
    raise KieError(
        f"{what}: HTTP {status}: {snippet or 'empty answer'}",
        code=status,
        http_status=status,
        retry_after=retry_after,
    )


def _whole_credits(data: Any) -> int:
    # Balances are documented as integers; a fractional one is floored rather than refused.
    number = float(data) if isinstance(data, int | float | str) and not isinstance(data, bool) else math.nan
    if not math.isfinite(number):
        raise KieParseError(f"credits: data={data!r} is not a number")
    return math.floor(number)


def _download_url_of(answer: _Answer, *, what: str) -> str:
    # Upload pages disagree on the answer's shape; data.downloadUrl is in all of them.
    with _retry_after_from(answer), reading(what):
        data = ok_data(answer.body, answer.status, what=what)
        link = text(mapping(data).get("downloadUrl"))
        if link is None:
            raise KieParseError(f"{what}: the answer holds no data.downloadUrl", http_status=answer.status)
        return link


@contextmanager
def _retry_after_from(answer: _Answer) -> Iterator[None]:
    """Give errors read from a body the Retry-After that only the HTTP headers carried."""
    try:
        yield
    except KieError as exc:
        if exc.retry_after is None:
            exc.retry_after = answer.retry_after
        raise


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """A Retry-After header (delta-seconds or an HTTP date) as seconds from now; None if absent/garbage."""
    if not value or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(seconds, 0.0) if math.isfinite(seconds) else None
