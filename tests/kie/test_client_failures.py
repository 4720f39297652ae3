"""KieClient over real HTTP when KIE or the network fails: 401, 429 with Retry-After, HTML 500 pages,
closed, refused and timed-out connections; the API key never shown."""

from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest

from kie.client import KieClient, retry_after_seconds
from kie.errors import KieError, KieNetworkError, Kind
from tests.kie.stub_server import API_KEY, Reply, Stub, make_client
from tests.kie.support import GROK_IMAGE, NANO_BANANA_PRO, load


async def test_http_401_with_the_documented_body_is_an_operator_problem(
    stub: Stub, client: KieClient
) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(status=401, body=load("error_401_missing_headers.json")))
    with pytest.raises(KieError) as caught:
        await client.get_credits()
    assert (caught.value.kind, caught.value.code, caught.value.http_status) == (Kind.OPERATOR, 401, 401)
    assert caught.value.message == "You do not have access permissions"


@pytest.mark.parametrize("json_body", [True, False], ids=["json", "plain"])
async def test_http_429_carries_retry_after(stub: Stub, client: KieClient, json_body: bool) -> None:
    reply = Reply(status=429, headers={"Retry-After": "7"})
    if json_body:
        reply.body = load("market_recordInfo_error_429.json")
    else:
        reply.raw = "Too Many Requests"
    stub.on("POST", "/api/v1/jobs/createTask", reply)
    with pytest.raises(KieError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.code, caught.value.transient, caught.value.retry_after) == (429, True, 7.0)
    assert not caught.value.ambiguous


async def test_body_429_under_http_200_is_transient(stub: Stub, client: KieClient) -> None:
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(body=load("market_recordInfo_error_429.json")))
    with pytest.raises(KieError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert (caught.value.code, caught.value.transient, caught.value.retry_after) == (429, True, None)


async def test_html_500_page_is_transient(stub: Stub, client: KieClient) -> None:
    page = "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>"
    stub.on("GET", "/api/v1/jobs/recordInfo", Reply(status=500, raw=page))
    with pytest.raises(KieError) as caught:
        await client.get_status(GROK_IMAGE, "t1")
    assert (caught.value.code, caught.value.http_status, caught.value.kind) == (500, 500, Kind.TRANSIENT)
    assert "HTTP 500" in caught.value.message and "500 Internal Server Error" in caught.value.message


async def test_closed_connection_is_transient_and_ambiguous(session: aiohttp.ClientSession) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")  # the whole request head arrived...
        writer.close()  # ...and the server vanished without answering

    server = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = make_client(session, f"http://127.0.0.1:{port}")
        with pytest.raises(KieNetworkError) as caught:
            await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    finally:
        server.close()
        await server.wait_closed()
    assert (caught.value.kind, caught.value.code, caught.value.ambiguous) == (Kind.TRANSIENT, None, True)


async def test_refused_connection_is_transient_and_not_ambiguous(session: aiohttp.ClientSession) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = make_client(session, f"http://127.0.0.1:{port}")
    with pytest.raises(KieNetworkError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.transient, caught.value.ambiguous) == (True, False)


async def test_timeout_is_transient_and_ambiguous(stub: Stub, session: aiohttp.ClientSession) -> None:
    stub.on("POST", "/api/v1/jobs/createTask", Reply(body=load("market_createTask_response.json"), delay=0.3))
    client = KieClient(session, base_url=stub.url, upload_base_url=stub.url, api_key=API_KEY, timeout=0.1)
    with pytest.raises(KieNetworkError) as caught:
        await client.create_task(NANO_BANANA_PRO, {"prompt": "p"}, "https://cb")
    assert (caught.value.transient, caught.value.ambiguous) == (True, True)


async def test_the_key_is_never_shown(
    stub: Stub, client: KieClient, caplog: pytest.LogCaptureFixture
) -> None:
    stub.on("GET", "/api/v1/chat/credit", Reply(status=401, body=load("error_401_missing_headers.json")))
    with caplog.at_level(logging.DEBUG), pytest.raises(KieError) as caught:
        await client.get_credits()
    shown = " ".join([repr(client), str(caught.value), repr(caught.value), caplog.text])
    assert API_KEY not in shown


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    now = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT
    assert retry_after_seconds(header, now=now) == seconds
