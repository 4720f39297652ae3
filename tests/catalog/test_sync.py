"""The drift check: the catalog against stored snapshots of KIE's docs, and the snapshots against the (here:
locally served) live docs. No test touches the network."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from catalog import get_catalog, load_catalog
from catalog.loading import default_data_dir
from catalog.sync import Snapshots, drift, load_snapshots
from catalog.sync.__main__ import main
from catalog.sync.live import PageError, page_url, parse_llms, parse_page
from catalog.sync.snapshots import WHOLE_INPUT
from tests.catalog.docs_pages import render_llms, render_page

STORED = load_snapshots()


def test_the_catalog_matches_the_stored_snapshots(capsys: pytest.CaptureFixture[str]) -> None:
    report = drift(get_catalog(), STORED)
    assert report.clean, "\n".join(report.lines())
    assert main(["--check"]) == 0
    assert capsys.readouterr().out.startswith("clean: catalog vs stored snapshots")


def test_every_documented_model_is_offered_or_excluded() -> None:
    catalog = get_catalog()
    for entry in STORED.index:
        assert entry.model in catalog.models or STORED.exclusion_for(entry), entry
    for model in catalog.models.values():
        assert any(entry.model == model.id for entry in STORED.index), model.id
    assert len({entry.doc_page for entry in STORED.index if not entry.model}) == len(
        [entry for entry in STORED.index if not entry.model]
    )


def test_the_readme_lists_every_exclusion() -> None:
    readme = (Path(str(default_data_dir())) / "README.md").read_text(encoding="utf-8")
    for exclusion in STORED.excluded:
        for name in [
            *exclusion.models,
            *(page.removeprefix("https://docs.kie.ai/") for page in exclusion.pages),
        ]:
            assert f"`{name}`" in readme, name


def test_snapshots_record_where_they_come_from() -> None:
    for snapshot in STORED.models.values():
        assert snapshot.doc_page.startswith("https://docs.kie.ai/"), snapshot.model
        assert snapshot.source.path.endswith(".md") and snapshot.source.commit
        assert snapshot.endpoint.startswith("/api/v1/") and snapshot.status_endpoint.startswith("/api/v1/")
        for facts in snapshot.inputs.values():
            assert facts.type in ("string", "boolean", "number", "integer", "array", "object"), snapshot.model


# --- drift on an edited copy of the snapshots -------------------------------------------------------


def edit_snapshot(data: Path, model_id: str, change: Callable[[dict[str, Any]], None]) -> None:
    entry = next(entry for entry in STORED.index if entry.model == model_id)
    path = data / "snapshots" / entry.snapshot
    snapshot = json.loads(path.read_text(encoding="utf-8"))
    change(snapshot)
    path.write_text(json.dumps(snapshot, ensure_ascii=False), encoding="utf-8")


def edit_index(data: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    path = data / "snapshots" / "index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    change(index)
    path.write_text(json.dumps(index), encoding="utf-8")


def check_lines(data: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert main(["--check", "--data", str(data)]) == 1
    return capsys.readouterr().out.splitlines()[:-1]


def test_each_kind_of_drift_is_one_line(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def change_inputs(snapshot: dict[str, Any]) -> None:
        inputs = snapshot["inputs"]
        inputs["resolution"]["enum"] = ["1K", "2K", "8K"]  # 4K removed, 8K added
        inputs["prompt"]["maxLength"] = 30000  # a limit
        inputs["aspect_ratio"]["type"] = "integer"  # a type
        inputs["output_format"]["required"] = True  # required
        inputs["seed"] = {"type": "integer", "required": False}  # a new input
        del inputs["image_input"]  # an input gone

    edit_snapshot(data_copy, "nano-banana-2", change_inputs)

    def new_and_gone(index: list[dict[str, Any]]) -> None:
        index[:] = [entry for entry in index if entry.get("model") != "z-image"]
        page = "https://docs.kie.ai/market/acme/new-video"
        index.append({"model": "acme/new-video", "title": "Acme", "category": "Video", "doc_page": page})

    edit_index(data_copy, new_and_gone)
    lines = check_lines(data_copy, capsys)
    assert lines == [
        "model added      acme/new-video: documented at https://docs.kie.ai/market/acme/new-video, "
        "not in the catalog nor excluded",
        "input added      nano-banana-2.seed: documented, not in the catalog",
        "input changed    nano-banana-2.prompt: maxLength 20000 → 30000",
        "input removed    nano-banana-2.image_input: in the catalog, not in the docs",
        "input changed    nano-banana-2.aspect_ratio: type 'string' → 'integer'",
        "input changed    nano-banana-2.resolution: enum values added ['8K'], values removed ['4K']",
        "input changed    nano-banana-2.output_format: now required",
        "model removed    z-image: in the catalog, no longer documented",
    ]


def test_a_declared_deviation_holds_only_while_the_docs_say_the_same(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The catalog adds sound=false as a default; the docs now give their own default: drift.
    edit_snapshot(data_copy, "kling-2.6/text-to-video", lambda s: s["inputs"]["sound"].update(default=True))
    assert check_lines(data_copy, capsys) == [
        "input changed    kling-2.6/text-to-video.sound: default (none) → True"
    ]


def test_a_stale_override_and_a_stale_exclusion_are_drift(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit_snapshot(data_copy, "runway", lambda s: s["inputs"]["duration"].update(default=5))
    with (data_copy / "excluded.toml").open("a", encoding="utf-8") as file:
        file.write('\n[[excluded]]\nreason = "test"\nmodels = ["runway", "gone/model"]\n')
    lines = check_lines(data_copy, capsys)
    assert "override stale   runway.duration: default: the catalog now matches the docs" in lines
    assert "input changed    runway.duration: default (none) → 5" in lines
    assert "exclusion stale  runway: excluded, yet in the catalog" in lines
    assert "exclusion stale  gone/model: excluded, but no longer documented" in lines


def test_an_override_naming_an_unknown_key_fails_to_load(data_copy: Path) -> None:
    path = data_copy / "models" / "runway.json"
    model = json.loads(path.read_text(encoding="utf-8"))
    model["inputs"]["duration"]["doc"] = {"documented": {"colour": None}, "why": "no such key"}
    path.write_text(json.dumps(model), encoding="utf-8")
    with pytest.raises(ValueError, match="unknown schema key"):
        load_catalog(data_copy)


# --- the live docs, served locally -------------------------------------------------------------------


def test_every_stored_snapshot_survives_a_round_trip_through_a_page() -> None:
    for snapshot in STORED.models.values():
        [(model_id, endpoint, inputs)] = parse_page(render_page(snapshot), snapshot.endpoint)
        assert endpoint == snapshot.endpoint
        assert model_id == (snapshot.model if snapshot.api == "market" else None)
        schema_inputs = {n for n, f in snapshot.inputs.items() if WHOLE_INPUT not in f.from_prose}
        assert set(inputs) == schema_inputs, snapshot.model
        for name, facts in inputs.items():
            stored = snapshot.inputs[name]
            skip = {*stored.from_prose, "from_prose"}
            assert facts.model_dump(exclude=skip) == stored.model_dump(exclude=skip), (snapshot.model, name)


def test_a_page_without_a_schema_is_an_error() -> None:
    with pytest.raises(PageError):
        parse_page("# Nothing here\n", "/api/v1/jobs/createTask")


def test_llms_txt_lists_english_pages_only() -> None:
    entries = parse_llms(render_llms(STORED))
    assert {entry.doc_page for entry in entries} >= {entry.doc_page for entry in STORED.index}
    assert not [entry for entry in entries if "/cn/" in entry.doc_page]
    assert page_url("https://docs.kie.ai/market/z-image/z-image", "http://127.0.0.1:9") == (
        "http://127.0.0.1:9/market/z-image/z-image.md"
    )


def small_data(data: Path, models: list[str]) -> Snapshots:
    """Keep only some index entries, so the local docs site needs only their pages."""
    edit_index(
        data, lambda index: index.__setitem__(slice(None), [e for e in index if e.get("model") in models])
    )
    return load_snapshots(data)


def site_pages(snapshots: Snapshots, extra: list[tuple[str, str, str]] = ()) -> dict[str, str]:
    """Path → text of the docs site: llms.txt and each page; ``extra`` adds (title, page, text)."""
    pages = {"/llms.txt": render_llms(snapshots, [(title, page) for title, page, _ in extra])}
    for snapshot in snapshots.models.values():
        pages[page_url(snapshot.doc_page, "")] = render_page(snapshot)
    for _, page, text in extra:
        pages[page_url(page, "")] = text
    return pages


async def serve(pages: dict[str, str], argv: list[str]) -> int:
    """Run ``python -m catalog.sync <argv> --docs-base <a local server of pages>``."""

    async def page(request: web.Request) -> web.Response:
        text = pages.get(request.path)
        return web.Response(text=text) if text is not None else web.Response(status=404)

    app = web.Application()
    app.router.add_get("/{tail:.*}", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:  # main() runs its own event loop: give it a thread
        return await asyncio.to_thread(main, [*argv, "--docs-base", f"http://127.0.0.1:{port}"])
    finally:
        await runner.cleanup()


LIVE_MODELS = ["z-image", "runway", "gpt4o-image", "bytedance/seedance-2", "kling-3.0/video"]


async def test_unchanged_live_docs_are_clean(data_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stored = small_data(data_copy, LIVE_MODELS)
    assert await serve(site_pages(stored), ["--live", "--data", str(data_copy)]) == 0
    assert capsys.readouterr().out.startswith("clean: stored snapshots vs http://127.0.0.1:")


async def test_changed_live_docs_are_reported_and_written(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = small_data(data_copy, LIVE_MODELS)
    z_image = stored.models["z-image"]
    changed = z_image.model_copy(
        update={
            "inputs": {
                **z_image.inputs,
                "aspect_ratio": z_image.inputs["aspect_ratio"].model_copy(update={"enum": ["1:1", "21:9"]}),
                "prompt": z_image.inputs["prompt"].model_copy(update={"maxLength": 2000}),
            }
        }
    )
    new_model = changed.model_copy(update={"model": "acme/new-image", "title": "Acme image"})
    new_page = "https://docs.kie.ai/market/acme/new-image"
    pages = site_pages(stored, [("Acme image", new_page, render_page(new_model))])
    pages[page_url(z_image.doc_page, "")] = render_page(changed)
    del pages[page_url(stored.models["runway"].doc_page, "")]  # a page that no longer loads

    argv = ["--live", "--data", str(data_copy)]
    assert await serve(pages, argv) == 1
    out = capsys.readouterr()
    assert (
        "model added      acme/new-image: new docs page https://docs.kie.ai/market/acme/new-image" in out.out
    )
    assert "input changed    z-image.prompt: maxLength 1000 → 2000" in out.out
    assert "input changed    z-image.aspect_ratio: enum values added ['21:9'], values removed" in out.out
    assert "could not read https://docs.kie.ai/runway-api/generate-ai-video" in out.err

    assert await serve(pages, [*argv, "--write"]) == 1
    capsys.readouterr()
    written = load_snapshots(data_copy)
    assert written.models["z-image"].inputs["prompt"].maxLength == 2000
    assert written.models["acme/new-image"].doc_page == new_page
    assert written.models["runway"] == stored.models["runway"]  # unreadable: kept as it was
    # Prose-only facts survive a write: the schema cannot confirm them.
    assert written.models["bytedance/seedance-2"].inputs["duration"].from_prose == ["minimum", "maximum"]

    pages[page_url(stored.models["runway"].doc_page, "")] = render_page(stored.models["runway"])
    assert await serve(pages, argv) == 0
    assert capsys.readouterr().out.startswith("clean:")


async def test_unreachable_docs_are_an_error_not_drift(
    data_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await serve({}, ["--live", "--data", str(data_copy)]) == 2
    assert "could not read http://127.0.0.1:" in capsys.readouterr().err
