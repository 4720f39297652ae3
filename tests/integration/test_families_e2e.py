"""Every KIE API family, then every catalog model, generated end to end through the real processes: the dev
server, PostgreSQL, the worker, the webhooks server and both simulators.

The user's media goes in the way the bot will send it: the user sends a file in Telegram (what to send comes
from ``Catalog.media_kind`` and passes ``Catalog.check_media``), the workflow uploads it to KIE. Results come
out as messages in the chat, one per file (Suno's two takes, 4o's variants, several Market images).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from catalog import get_catalog
from contracts.models import GenerationResult, Outcome
from simulators.telegram.testing import make_png
from tests.fixtures.system import System, finished

ASSETS = Path(__file__).resolve().parents[2] / "simulators" / "kie" / "assets"
CATALOG = get_catalog()
START_CREDITS = 5000
# How each kind of result arrives in the chat.
CHAT_KIND = {"image": "photo", "video": "video", "audio": "audio"}


@dataclass(frozen=True)
class Sent:
    """A file the user sent, as the bot reads it from the update."""

    file_id: str
    kind: str
    mime_type: str | None
    size: int | None
    data: bytes


async def send_file(system: System, user_id: int, kind: str, name: str, data: bytes) -> Sent:
    form = aiohttp.FormData()
    form.add_field("kind", kind)
    form.add_field("file", data, filename=name)
    async with system.http.post(f"{system.telegram}/_sim/users/{user_id}/message", data=form) as response:
        assert response.status == 200, await response.text()
        message = (await response.json())["update"]["message"]
    media = message[kind]
    media = media[-1] if isinstance(media, list) else media
    return Sent(media["file_id"], kind, media.get("mime_type"), media.get("file_size"), data)


def sample_for(kind: str) -> tuple[str, str, bytes]:
    """(Telegram kind, file name, bytes) of a typical file of a media kind."""
    if kind == "video":
        return "video", "clip.mp4", (ASSETS / "sample.mp4").read_bytes()
    if kind == "audio":
        return "audio", "voice.mp3", (ASSETS / "sample.mp3").read_bytes()
    return "photo", "photo.png", make_png(256, 256)


async def user_sends_for(system: System, user_id: int, model_id: str, field: str) -> Sent:
    """The user answers the bot's "send a …" for this input; the bot's check lets the file through."""
    [kind] = CATALOG.media_kind(model_id, field)
    sent = await send_file(system, user_id, *sample_for(kind))
    problem = CATALOG.check_media(model_id, field, kind=sent.kind, mime_type=sent.mime_type, size=sent.size)
    assert problem is None, problem.message("en")
    return sent


async def user_inputs(
    system: System, user_id: int, model_id: str, changes: dict[str, Any] | None = None
) -> tuple[dict[str, Any], list[Sent]]:
    """The model's example with each media value given in it replaced by files the user sends (a list keeps
    its length), then ``changes`` applied; ``None`` in ``changes`` removes an input."""
    spec = CATALOG.get(model_id)
    inputs = {**spec.example, **(changes or {})}
    sent: list[Sent] = []
    for field in spec.media_inputs:
        value = inputs.get(field)
        if isinstance(value, list):
            files = [await user_sends_for(system, user_id, model_id, field) for _ in value or [None]]
            sent += files
            inputs[field] = [f.file_id for f in files]
        elif isinstance(value, str):
            file = await user_sends_for(system, user_id, model_id, field)
            sent.append(file)
            inputs[field] = file.file_id
    return {k: v for k, v in inputs.items() if v is not None}, sent


@dataclass
class Generation:
    model_id: str
    user_id: int
    inputs: dict[str, Any]
    sent: list[Sent]
    price: int
    free: bool
    workflow_id: str
    result: GenerationResult | None = None
    error: BaseException | None = None


async def start(
    system: System, model_id: str, changes: dict[str, Any] | None = None
) -> tuple[Generation, Any]:
    user_id = await system.new_user(START_CREDITS)
    inputs, sent = await user_inputs(system, user_id, model_id, changes)
    price = CATALOG.price(model_id, CATALOG.validate(model_id, inputs))
    handle = await system.generate(user_id, model_id, inputs)
    return Generation(model_id, user_id, inputs, sent, price.credits, price.free, handle.id), handle


async def generate(
    system: System, model_id: str, changes: dict[str, Any] | None = None, within: float = 60
) -> Generation:
    generation, handle = await start(system, model_id, changes)
    try:
        generation.result = await finished(handle, within)
    except BaseException as error:  # reported by the test that looks at this model
        generation.error = error
    return generation


async def delivered(system: System, user_id: int) -> list[dict[str, Any]]:
    """The bot's messages carrying media in the user's chat, in order."""
    chat = await system.chat(user_id)
    return [m for m in chat["messages"] if m["sender"] == "bot" and m["media"] and not m["deleted"]]


async def assert_generated(system: System, generation: Generation, *, files: int | None = None) -> None:
    """Succeeded, delivered one chat message per result file of the model's kind, charged the catalog
    price exactly once (free models: nothing), ledger consistent."""
    assert generation.error is None, f"{generation.model_id}: {generation.error!r}"
    result = generation.result
    assert result is not None and result.outcome == Outcome.SUCCEEDED, (generation.model_id, result)
    output = CATALOG.get(generation.model_id).output
    if files is not None:
        assert len(result.files) == files, result.files
    assert result.files and all(f.media_type == output for f in result.files), result.files
    assert result.delivered
    messages = await delivered(system, generation.user_id)
    assert len(messages) == len(result.files)
    assert [m["media"][0]["kind"] for m in messages] == [CHAT_KIND[output]] * len(result.files)

    assert result.price == generation.price
    assert result.charged == (generation.price > 0 and not generation.free)
    balance = await system.ledger.balance(generation.user_id)
    spent = 0 if generation.free else generation.price
    assert (balance.balance, balance.held) == (START_CREDITS - spent, 0)
    movements = await system.ledger.recent_movements(generation.user_id, limit=20)
    charges = [m for m in movements if m.kind == "charge"]
    assert len(charges) == (1 if result.charged else 0)


async def kie_task(system: System, task_id: str) -> dict[str, Any]:
    async with system.http.get(f"{system.kie}/_sim/tasks/{task_id}") as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def download(system: System, url: str) -> bytes:
    async with system.http.get(url) as response:
        assert response.status == 200
        return await response.read()


# --- one generation per API family ----------------------------------------------------------------

# (family, model, input changes, result files)
FAMILIES = [
    ("market", "qwen/image-edit", {"num_images": "2"}, 2),
    ("veo", "veo3.1", {"imageUrls": ["photo"], "generationType": None}, 1),
    ("runway", "runway", {}, 1),
    ("runway-aleph", "runway-aleph", {"referenceImage": "photo"}, 1),
    ("suno", "suno/generate-music", {}, 2),
    ("gpt4o_image", "gpt4o-image", {"nVariants": 4}, 4),
    ("flux_kontext", "flux-kontext", {"inputImage": "photo"}, 1),
]


@pytest.mark.parametrize(
    ("model_id", "changes", "files"), [f[1:] for f in FAMILIES], ids=[f[0] for f in FAMILIES]
)
async def test_a_generation_per_family(system: System, model_id: str, changes: dict, files: int) -> None:
    generation = await generate(system, model_id, changes)
    await assert_generated(system, generation, files=files)
    await system.assert_ledger_consistent()

    # The user's files reached KIE byte for byte, as URLs of KIE's upload host in the create body.
    task = await kie_task(system, generation.result.task_id)
    body = task["body"]["input"] if CATALOG.get(model_id).api == "market" else task["body"]
    sent_ids = {s.file_id for s in generation.sent}
    for field in CATALOG.get(model_id).media_inputs:
        value = body.get(field)
        if value is None:
            assert field not in generation.inputs
            continue
        urls = value if isinstance(value, list) else [value]
        assert all(f"/genflow/{generation.workflow_id}/" in u and "/uploads/" in u for u in urls), urls
        assert not sent_ids & set(urls)  # no Telegram file id leaked to KIE
    assert len(task["resultPaths"]) == files


async def test_the_user_photo_reaches_flux_kontext_and_4o(system: System) -> None:
    for model_id, field in (("flux-kontext", "inputImage"), ("gpt4o-image", "filesUrl")):
        generation = await generate(system, model_id, {field: "photo"})
        await assert_generated(system, generation)
        body = (await kie_task(system, generation.result.task_id))["body"]
        url = body[field] if isinstance(body[field], str) else body[field][0]
        assert await download(system, url) == generation.sent[0].data


async def test_suno_two_takes_arrive_as_two_audio_messages(system: System) -> None:
    generation = await generate(system, "suno/generate-music")
    await assert_generated(system, generation, files=2)
    messages = await delivered(system, generation.user_id)
    assert [m["media"][0]["kind"] for m in messages] == ["audio", "audio"]
    # One media group (or, if grouping fell back, two messages in order of the takes).
    groups = {m["media_group_id"] for m in messages}
    assert len(groups) == 1 or messages[0]["message_id"] < messages[1]["message_id"]
    assert len({f.url for f in generation.result.files}) == 2


# --- every catalog model ------------------------------------------------------------------------

ENABLED = [model.id for model in CATALOG.models.values() if model.enabled]
BATCH = 12
# Upgrades of a delivered result (Veo extend/1080P/4K, Runway and Suno extend) run on the task of their
# first parent model's generation: model → (parent model, the input that carries the parent's task id).
UPGRADES = {
    model.id: (model.upgrade_of[0], next(name for name, spec in model.inputs.items() if spec.task_id))
    for model in CATALOG.models.values()
    if model.enabled and model.upgrade_of
}


def parent_task(results: dict[str, Generation], parent: str) -> str:
    result = results[parent].result
    return result.task_id if result is not None and result.task_id else f"no-{parent}-task"


@pytest.fixture(scope="module")
async def every_model(system: System) -> dict[str, Generation]:
    """Every enabled model generated once, concurrently in batches, with the simulated KIE fast; then each
    upgrade on the task of its parent's generation."""
    async with system.http.get(f"{system.kie}/_sim/config") as response:
        latency = (await response.json())["latency"]
    # The simulator guesses a Market model's media from its name; tell it what each catalog model makes.
    outputs = {m.id: m.output for m in CATALOG.models.values() if m.api == "market"}
    await system.kie_config(latency=0.2, model_outputs=outputs)
    started = time.monotonic()
    try:
        results: dict[str, Generation] = {}
        parents = {parent for parent, _ in UPGRADES.values()}
        first = [m for m in ENABLED if m not in UPGRADES]
        first.sort(key=lambda m: m not in parents)
        for index in range(0, len(first), BATCH):
            batch = first[index : index + BATCH]
            done = await asyncio.gather(*(generate(system, m, within=90) for m in batch))
            results.update({g.model_id: g for g in done})
        pending = [m for m in ENABLED if m in UPGRADES]
        while pending:  # an upgrade of an upgrade waits for its parent's round
            ready = [m for m in pending if UPGRADES[m][0] in results]
            assert ready, f"upgrades whose parent is never generated: {pending}"
            done = await asyncio.gather(
                *(
                    generate(system, m, {UPGRADES[m][1]: parent_task(results, UPGRADES[m][0])}, within=90)
                    for m in ready
                )
            )
            results.update({g.model_id: g for g in done})
            pending = [m for m in pending if m not in results]
    finally:
        await system.kie_config(latency=latency)
    print(f"\n{len(results)} models generated end to end in {time.monotonic() - started:.1f} s")
    return results


@pytest.mark.timeout(300)
@pytest.mark.parametrize("model_id", ENABLED)
async def test_every_model_end_to_end(
    system: System, every_model: dict[str, Generation], model_id: str
) -> None:
    generation = every_model[model_id]
    await assert_generated(system, generation)
    if model_id in UPGRADES:
        parent, field = UPGRADES[model_id]
        assert generation.inputs[field] == every_model[parent].result.task_id


def test_every_upgrade_runs_on_its_parent() -> None:
    assert {
        "veo3.1-extend": ("veo3.1", "taskId"),
        "veo3.1-1080p": ("veo3.1", "taskId"),
        "veo3.1-4k": ("veo3.1", "taskId"),
        "runway-extend": ("runway", "taskId"),
        "suno/extend": ("suno/generate-music", "audioId"),
    }.items() <= UPGRADES.items()


async def test_upgrades_reached_kie_on_the_parent_task(
    system: System, every_model: dict[str, Generation]
) -> None:
    """What KIE was asked: the parent's id (a Veo upgrade's own id is derived from it), a Suno track of it."""
    veo = every_model["veo3.1"].result.task_id
    for mark in ("1080p", "4k"):
        generation = every_model[f"veo3.1-{mark}"]
        assert generation.result.task_id == f"{veo}@{mark}"
        task = await kie_task(system, generation.result.task_id)
        assert (task["kind"], task["body"]["taskId"]) == (mark, veo)
    extend = await kie_task(system, every_model["suno/extend"].result.task_id)
    song = await kie_task(system, every_model["suno/generate-music"].result.task_id)
    assert extend["body"]["audioId"] != song["taskId"] and extend["body"]["model"] == song["model"]
    runway = await kie_task(system, every_model["runway-extend"].result.task_id)
    assert runway["body"]["taskId"] == every_model["runway"].result.task_id


async def test_the_ledger_holds_after_every_model(system: System, every_model: dict[str, Generation]) -> None:
    assert len(every_model) == len(ENABLED) >= 100
    await system.assert_ledger_consistent()
