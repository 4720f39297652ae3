"""Media through the real aiogram client: URLs the simulator fetches, uploads, file_ids, downloads."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramEntityTooLarge, TelegramNetworkError
from aiogram.types import BufferedInputFile, InputMediaPhoto, InputMediaVideo

from simulators.telegram import TelegramSimulator
from simulators.telegram.testing import bot_for, make_png, running_simulator, serve_files

USER = 123456789
PNG = make_png(640, 360)
MB = 1024 * 1024


@pytest.fixture(scope="module")
async def running() -> AsyncIterator[tuple[TelegramSimulator, Bot, str]]:
    files = {
        "/result.png": (PNG, "image/png"),
        "/page.html": (b"<html>login</html>", "text/html"),
        "/huge.png": (PNG + b"\0" * (5 * MB), "image/png"),
        "/clip.mp4": (b"\0\0\0\x18ftypmp42" + b"\0" * 100, "video/mp4"),
    }
    async with serve_files(files) as cdn, running_simulator() as simulator:
        client = bot_for(simulator)
        yield simulator, client, cdn
        await client.session.close()


@pytest.fixture
def sim(running: tuple[TelegramSimulator, Bot, str]) -> TelegramSimulator:
    simulator = running[0]
    simulator.reset()
    simulator.add_user(USER, first_name="Test")
    return simulator


@pytest.fixture
def bot(running: tuple[TelegramSimulator, Bot, str], sim: TelegramSimulator) -> Bot:
    return running[1]


@pytest.fixture
def cdn(running: tuple[TelegramSimulator, Bot, str]) -> str:
    return running[2]


async def test_photo_by_url_is_fetched_and_sized(sim: TelegramSimulator, bot: Bot, cdn: str) -> None:
    sent = await bot.send_photo(USER, f"{cdn}/result.png", caption="Here is your result")
    assert sent.photo is not None
    assert [(p.width, p.height) for p in sent.photo] == [(90, 51), (320, 180), (640, 360)]
    assert len({p.file_id for p in sent.photo}) == 3
    media = sim.chat(USER).messages[0].media[0]
    assert (media.kind, media.file_id, media.mime_type) == ("photo", sent.photo[-1].file_id, "image/png")
    async with aiohttp.ClientSession() as http, http.get(media.url) as response:
        assert await response.read() == PNG


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/missing.png", "Bad Request: failed to get HTTP URL content"),
        ("/page.html", "Bad Request: wrong type of the web page content"),
        ("/huge.png", "Bad Request: failed to get HTTP URL content"),  # over the 5 MB by-URL limit
    ],
)
async def test_photo_url_failures(bot: Bot, cdn: str, path: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(USER, f"{cdn}{path}")
    assert caught.value.message == error


async def test_photo_upload_and_file_id_resend(sim: TelegramSimulator, bot: Bot) -> None:
    uploaded = await bot.send_photo(USER, BufferedInputFile(PNG, "result.png"))
    assert uploaded.photo is not None
    again = await bot.send_photo(USER, uploaded.photo[-1].file_id, caption="again")
    assert again.photo is not None
    assert [p.file_id for p in again.photo] == [p.file_id for p in uploaded.photo]
    assert sim.chat(USER).messages[1].caption == "again"
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await bot.send_photo(USER, "AgACAgIAAxkBAAnot-a-real-id")


async def test_uploads_over_the_limit_are_too_large(bot: Bot) -> None:
    big_photo = PNG + b"\0" * (10 * MB)
    with pytest.raises(TelegramEntityTooLarge) as caught:
        await bot.send_photo(USER, BufferedInputFile(big_photo, "big.png"))
    assert isinstance(caught.value, TelegramNetworkError)  # catch it before the generic network branch
    # The same bytes are fine as a document (50 MB limit).
    sent = await bot.send_document(USER, BufferedInputFile(big_photo, "big.png"))
    assert sent.document is not None and sent.document.file_size == len(big_photo)


async def test_not_an_image_cannot_be_a_photo(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(USER, BufferedInputFile(b"not an image", "x.png"))


async def test_caption_limit_counts_utf16_units(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_photo(USER, BufferedInputFile(PNG, "a.png"), caption="😀" * 513)
    assert caught.value.message == "Bad Request: message caption is too long"


async def test_media_group_mixes_upload_and_url(sim: TelegramSimulator, bot: Bot, cdn: str) -> None:
    messages = await bot.send_media_group(
        USER,
        [
            InputMediaPhoto(media=BufferedInputFile(PNG, "a.png"), caption="first"),
            InputMediaVideo(media=f"{cdn}/clip.mp4"),
        ],
    )
    assert len(messages) == 2
    assert messages[0].media_group_id is not None
    assert messages[0].media_group_id == messages[1].media_group_id
    assert messages[0].photo is not None and messages[1].video is not None
    assert [m.media_group_id for m in sim.chat(USER).messages] == [messages[0].media_group_id] * 2
    with pytest.raises(TelegramBadRequest):
        await bot.send_media_group(USER, [InputMediaPhoto(media=BufferedInputFile(PNG, "a.png"))])


async def test_user_photo_round_trip_through_get_file(sim: TelegramSimulator, bot: Bot) -> None:
    update = sim.inject_file(USER, PNG, filename="selfie.png", caption="make it a watercolor")
    file_id = update["message"]["photo"][-1]["file_id"]
    file = await bot.get_file(file_id)
    assert file.file_path is not None and file.file_size == len(PNG)
    downloaded = await bot.download(file_id)
    assert isinstance(downloaded, io.BytesIO) and downloaded.getvalue() == PNG
    # The user's photo can be sent back by its file_id.
    echoed = await bot.send_photo(USER, file_id)
    assert echoed.photo is not None and echoed.photo[-1].file_id == file_id


async def test_user_upload_through_the_control_api(sim: TelegramSimulator, bot: Bot) -> None:
    form = aiohttp.FormData()
    form.add_field("file", b"%PDF-1.4 brief", filename="brief.pdf", content_type="application/pdf")
    form.add_field("caption", "use this")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sim.url}/_sim/users/{USER}/message", data=form) as response:
            update = (await response.json())["update"]
    document = update["message"]["document"]
    assert (document["file_name"], document["mime_type"]) == ("brief.pdf", "application/pdf")
    downloaded = await bot.download(document["file_id"])
    assert downloaded is not None and downloaded.getvalue() == b"%PDF-1.4 brief"
