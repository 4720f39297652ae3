"""How many files a simulated task produces, read back through the real KieClient and adapters: Market
``num_images``, 4o ``nVariants``, Suno's two takes, one file everywhere else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from catalog import get_catalog
from kie.client import KieClient
from kie.models import MediaType, TaskState
from simulators.kie import KieSimConfig, KieSimulator

CATALOG = get_catalog()


@pytest.fixture
async def kie() -> AsyncIterator[tuple[KieSimulator, KieClient]]:
    async with (
        KieSimulator(KieSimConfig(latency=0.05, latency_jitter=0, seed=11)) as sim,
        aiohttp.ClientSession() as http,
    ):
        yield sim, KieClient(http, base_url=sim.url, upload_base_url=sim.url, api_key="k")


async def results(kie: tuple[KieSimulator, KieClient], model_id: str, inputs: dict[str, Any]):
    sim, client = kie
    spec = CATALOG.get(model_id)
    task_id = await client.create_task(spec, inputs, "http://127.0.0.1:9/cb")  # nobody listens: fine
    await sim.wait_final(task_id)
    status = await client.get_status(spec, task_id)
    assert status.state is TaskState.SUCCEEDED
    async with aiohttp.ClientSession() as http:
        for file in status.files:  # every URL serves a real file
            async with http.get(file.url) as response:
                assert response.status == 200 and await response.read()
    return status.files


@pytest.mark.parametrize(("count", "expected"), [("1", 1), ("2", 2), ("3", 3), ("4", 4), (None, 1), ("x", 1)])
async def test_market_num_images(kie, count: str | None, expected: int) -> None:
    inputs = {**CATALOG.get("qwen/image-edit").example, "image_url": "https://example.com/a.png"}
    if count is None:
        inputs.pop("num_images")
    else:
        inputs["num_images"] = count
    files = await results(kie, "qwen/image-edit", inputs)
    assert len(files) == expected == len({f.url for f in files})
    assert {f.media_type for f in files} == {MediaType.IMAGE}


@pytest.mark.parametrize(("variants", "expected"), [(1, 1), (2, 2), (4, 4), (3, 1), (None, 1)])
async def test_4o_variants(kie, variants: int | None, expected: int) -> None:
    inputs = {"prompt": "a sunset", "size": "1:1"}
    if variants is not None:
        inputs["nVariants"] = variants
    files = await results(kie, "gpt4o-image", inputs)
    assert len(files) == expected == len({f.url for f in files})


@pytest.mark.parametrize("model_id", ["suno/generate-music", "suno/upload-cover", "suno/add-instrumental"])
async def test_suno_two_takes(kie, model_id: str) -> None:
    inputs = dict(CATALOG.get(model_id).example)
    if "uploadUrl" in inputs:
        inputs["uploadUrl"] = "https://example.com/voice.mp3"
    files = await results(kie, model_id, inputs)
    assert [f.media_type for f in files] == [MediaType.AUDIO, MediaType.AUDIO]
    assert len({f.url for f in files}) == 2 and all(f.title for f in files)


@pytest.mark.parametrize(
    ("model_id", "media"),
    [
        ("google/nano-banana", MediaType.IMAGE),
        ("kling-2.6/text-to-video", MediaType.VIDEO),
        ("elevenlabs/sound-effect-v2", MediaType.AUDIO),
        ("veo3.1", MediaType.VIDEO),
        ("runway", MediaType.VIDEO),
        ("flux-kontext", MediaType.IMAGE),
    ],
)
async def test_one_file_elsewhere(kie, model_id: str, media: MediaType) -> None:
    inputs = {
        name: ("https://example.com/in.png" if isinstance(value, str) else ["https://example.com/in.png"])
        if name in CATALOG.get(model_id).media_inputs
        else value
        for name, value in CATALOG.get(model_id).example.items()
        if value is not None
    }
    files = await results(kie, model_id, inputs)
    assert [f.media_type for f in files] == [media]
