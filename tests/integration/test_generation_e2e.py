"""Full generations through the real processes: one per format, the ledger invariant after each, and a worker
killed with SIGKILL in the middle of a wait."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog import get_catalog
from contracts.models import Outcome, Stage
from simulators.telegram.testing import make_png
from tests.fixtures.system import System, finished

ASSETS = Path(__file__).resolve().parents[2] / "simulators" / "kie" / "assets"
CATALOG = get_catalog()


def media_kind(field: str) -> tuple[str, str, bytes]:
    """What a user would send for this input: a voice-over, a clip, or a photo."""
    if "audio" in field.lower() or field == "uploadUrl":
        return "audio", "voice.mp3", (ASSETS / "sample.mp3").read_bytes()
    if "video" in field.lower():
        return "video", "clip.mp4", (ASSETS / "sample.mp4").read_bytes()
    return "photo", "photo.png", make_png(256, 256)


async def user_inputs(system: System, user_id: int, model_id: str) -> dict:
    """The model's documented example, with every media input replaced by a file the user sent in Telegram."""
    spec = CATALOG.get(model_id)
    inputs = dict(spec.example)
    for field in spec.media_inputs:
        if field not in inputs:
            continue
        kind, name, data = media_kind(field)
        file_id = await system.user_sends_file(user_id, name, data, kind)
        inputs[field] = [file_id] if isinstance(inputs[field], list) else file_id
    return inputs


@pytest.mark.parametrize("format_id", [f.id for f in CATALOG.formats])
async def test_a_full_generation_per_format(system: System, format_id: str):
    model = CATALOG.by_format(format_id)[0]
    user_id = await system.new_user()
    inputs = await user_inputs(system, user_id, model.id)
    handle = await system.generate(user_id, model.id, inputs)
    result = await finished(handle)

    assert result.outcome == Outcome.SUCCEEDED, result
    assert result.delivered and result.files
    balance = await system.ledger.balance(user_id)
    assert (balance.balance, balance.held) == (1000 - result.price, 0)
    record = await system.generations.get(handle.id)
    assert record is not None and record.status == "succeeded" and record.telegram_file_ids
    chat = await system.chat(user_id)
    delivered = [m for m in chat["messages"] if m["sender"] == "bot" and m["media"]]
    assert len(delivered) == len(result.files)
    await system.assert_ledger_consistent()


async def test_kie_failure_releases_the_hold(system: System):
    user_id = await system.new_user()
    handle = await system.generate(user_id, "google/nano-banana", {"prompt": "a cat [sim:fail:500]"})
    result = await finished(handle)
    assert result.outcome == Outcome.FAILED and not result.charged
    balance = await system.ledger.balance(user_id)
    assert (balance.balance, balance.held) == (1000, 0)
    await system.assert_ledger_consistent()


async def test_worker_killed_mid_wait_completes_once_charged_once(system: System):
    user_id = await system.new_user()
    # The simulated task takes a while, so the worker dies while the workflow waits on KIE.
    await system.kie_config(slow_latency=4.0)
    handle = await system.generate(user_id, "google/nano-banana", {"prompt": "a lighthouse [sim:slow]"})
    await system.wait_stage(handle, Stage.WAITING)
    system.stack.restart("worker", kill=True)
    result = await finished(handle, within=90)

    assert result.outcome == Outcome.SUCCEEDED and result.charged and result.delivered
    movements = await system.ledger.recent_movements(user_id, limit=20)
    kinds = sorted(m.kind for m in movements if m.kind != "topup")
    assert kinds == ["charge", "hold"]
    chat = await system.chat(user_id)
    assert len([m for m in chat["messages"] if m["sender"] == "bot" and m["media"]]) == 1
    await system.assert_ledger_consistent()


async def test_rejections_end_promptly_with_the_row_recorded(system: System):
    # Regression: recording a 'rejected' outcome used to fail and retry for a day.
    user_id = await system.new_user(credits=2)
    unknown = await system.generate(user_id, "no/such-model", {"prompt": "x"})
    too_poor = await system.generate(user_id, "nano-banana-pro", {"prompt": "a castle", "resolution": "4K"})
    for handle, reason in ((unknown, "model_unavailable"), (too_poor, "insufficient_credits")):
        result = await finished(handle, within=30)
        assert (result.outcome, result.reason) == (Outcome.REJECTED, reason)
        record = await system.generations.get(handle.id)
        assert record is not None and record.status == "rejected" and record.error_code == reason
    balance = await system.ledger.balance(user_id)
    assert (balance.balance, balance.held) == (2, 0)
    await system.assert_ledger_consistent()
