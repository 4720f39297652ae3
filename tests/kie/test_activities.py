"""activities/kie.py over real HTTP: whatever KIE answers, submit and check end in an outcome the workflow
can act on (a TaskCheck state, a SubmitOutcome, or an ApplicationError) and say why in the log."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.testing import ActivityEnvironment

from activities.kie import KieActivities, SubmitLimits
from catalog import get_catalog
from contracts.models import PollInput, Reason, StatusInput, SubmitInput, TaskCheck
from contracts.polling import STILL_RUNNING
from db import Slot
from kie.accounts import KieAccounts
from kie.client import KieClient
from tests.kie.support import Rejections

CATALOG = get_catalog()


@dataclass
class Answer:
    status: int = 200
    body: Any = None
    raw: str | None = None


@dataclass
class Kie:
    """Answers every request with ``answer`` and records the paths asked."""

    answer: Answer = field(default_factory=Answer)
    paths: list[str] = field(default_factory=list)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.paths.append(request.path)
        answer = self.answer
        if answer.raw is not None:
            return web.Response(status=answer.status, text=answer.raw, content_type="text/html")
        return web.Response(
            status=answer.status, text=json.dumps(answer.body), content_type="application/json"
        )


class OneKey:
    """KieKeys for a single key: always a slot, never disabled (the last key stays in rotation)."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def take_slot(self, key_ids: list[str], **_: Any) -> Slot:
        return Slot(self.key, active_keys=1)

    async def disable(self, key_id: str, reason: str, *, among: list[str]) -> bool:
        return False


LIMITS = SubmitLimits(tasks_per_period=20, period_seconds=10, margin_seconds=0.25, task_queue="q")


class Generations:
    def __init__(self) -> None:
        self.stages: list[str] = []
        self.task_ids: list[str] = []

    async def set_stage(self, gid: str, stage: str, **_: Any) -> None:
        self.stages.append(stage)

    async def add_task_id(self, gid: str, task_id: str, key_id: str | None = None) -> None:
        self.task_ids.append(task_id)

    async def key_of_task(self, task_id: str) -> str | None:
        return None  # no follow-up in these tests names a task of ours


@pytest.fixture
async def kie() -> AsyncIterator[Kie]:
    kie = Kie()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", kie.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    kie.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield kie
    await runner.cleanup()


@pytest.fixture
async def activities(kie: Kie) -> AsyncIterator[KieActivities]:
    async with aiohttp.ClientSession() as http:
        client = KieClient(http, base_url=kie.url, upload_base_url=kie.url, api_key="k", timeout=2.0)
        accounts = KieAccounts(client, ["k"])
        yield KieActivities(
            accounts,
            CATALOG,
            Generations(),  # type: ignore[arg-type]
            OneKey(accounts.ids[0]),  # type: ignore[arg-type]
            Rejections(),  # type: ignore[arg-type]
            limits=LIMITS,
            public_base_url="https://genflow.example",
            callback_secret="s",
        )


async def check(activities: KieActivities, model_id: str, task_id: str = "t1") -> TaskCheck:
    data = StatusInput(generation_id="gen-1-a", model_id=model_id, task_id=task_id)
    return await ActivityEnvironment().run(activities.check_task, data)


def ok(data: Any) -> Answer:
    return Answer(body={"code": 200, "msg": "success", "data": data})


def rec(**data: Any) -> Answer:
    """A status answer about task t1."""
    return ok({"taskId": "t1", **data})


# --- check_task -----------------------------------------------------------------------------------

UNREADABLE = [
    ("market resultJson not JSON", "google/nano-banana", rec(state="success", resultJson="{")),
    ("market state unknown", "google/nano-banana", rec(state="exploded")),
    ("market success without URLs", "google/nano-banana", rec(state="success", resultJson="")),
    ("veo successFlag garbage", "veo3.1", rec(successFlag="abc")),
    ("4o without a flag", "gpt4o-image", rec(progress="0.5")),
    ("4o progress garbage", "gpt4o-image", rec(successFlag=0, progress="fast")),
    ("suno status unknown", "suno/generate-music", rec(status="DANCING")),
    ("suno tracks not a list", "suno/generate-music", rec(status="SUCCESS", response={"sunoData": "x"})),
    ("runway state missing", "runway", rec(state=None)),
    ("aleph unknown flag", "runway-aleph", rec(successFlag=9)),
    ("flux no record", "flux-kontext", ok("nothing")),
    ("code not a number", "google/nano-banana", Answer(body={"code": "oops", "data": {}})),
    ("not an object", "google/nano-banana", Answer(body=[1, 2])),
    ("HTML with 200", "google/nano-banana", Answer(raw="<html>maintenance</html>")),
    ("task ids disagree", "google/nano-banana",
     Answer(body={"code": 200, "taskId": "a", "data": {"taskId": "b", "state": "waiting"}})),
    ("about another task", "google/nano-banana", ok({"taskId": "someone-else", "state": "waiting"})),
]  # fmt: skip


@pytest.mark.parametrize(("model_id", "answer"), [c[1:] for c in UNREADABLE], ids=[c[0] for c in UNREADABLE])
async def test_unreadable_status_is_an_unknown_state_and_logged(
    kie: Kie, activities: KieActivities, caplog: pytest.LogCaptureFixture, model_id: str, answer: Answer
) -> None:
    kie.answer = answer
    with caplog.at_level(logging.WARNING, logger="activities.kie"):
        result = await check(activities, model_id)
    assert (result.state, result.fail_code, result.files) == ("unknown", "unparseable", [])
    assert result.fail_message
    [record] = [r for r in caplog.records if r.name == "activities.kie"]
    assert record.levelno == logging.WARNING and "unreadable" in record.getMessage()
    assert (record.workflow_id, record.kie_task_id) == ("gen-1-a", "t1")


async def test_transient_status_errors_are_retried_by_temporal(kie: Kie, activities: KieActivities) -> None:
    kie.answer = Answer(status=502, raw="<html>Bad Gateway</html>")
    with pytest.raises(ApplicationError) as caught:
        await check(activities, "google/nano-banana")
    assert (caught.value.type, caught.value.non_retryable) == ("KieTransient", False)
    kie.answer = Answer(status=429, body={"code": 429, "msg": "Rate limit exceeded"})
    with pytest.raises(ApplicationError):
        await check(activities, "veo3.1")


async def test_status_refusals(kie: Kie, activities: KieActivities) -> None:
    kie.answer = Answer(body={"code": 404, "msg": "Task not found"})
    assert (await check(activities, "google/nano-banana")).model_dump(include={"state", "fail_code"}) == {
        "state": "unknown",
        "fail_code": "404",
    }


async def test_a_model_the_catalog_does_not_know(
    activities: KieActivities, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="activities.kie"):
        result = await check(activities, "luma")
    assert (result.state, result.fail_code) == ("unknown", "internal_error")
    assert any(r.levelno == logging.ERROR for r in caplog.records)


FOUR = json.dumps({"resultUrls": [f"https://r/{n}.png" for n in range(4)]})
TRACKS = [{"audioUrl": "https://r/1.mp3", "title": "One"}, {"audioUrl": "https://r/2.mp3", "title": "Two"}]
SUCCESSES = [
    ("market, four images", "qwen/image-edit", rec(state="success", resultJson=FOUR), ["image"] * 4),
    ("market resultJson as an object", "kling-2.6/text-to-video",
     rec(state="success", resultJson={"resultUrls": ["https://r/v"]}), ["video"]),
    ("4o, two variants", "gpt4o-image",
     rec(successFlag=1, progress="1.00", response={"result_urls": ["https://r/a", "https://r/b"]}),
     ["image", "image"]),
    ("suno, two tracks", "suno/generate-music", rec(status="SUCCESS", response={"sunoData": TRACKS}),
     ["audio", "audio"]),
    ("veo", "veo3.1", rec(successFlag=1, response={"resultUrls": '["https://r/v.mp4"]'}), ["video"]),
    ("runway", "runway", rec(state="success", videoInfo={"videoUrl": "https://r/v.mp4"}), ["video"]),
    ("aleph", "runway-aleph", rec(successFlag=1, errorCode=0, response={"resultVideoUrl": "https://r/v"}),
     ["video"]),
    ("flux", "flux-kontext", rec(successFlag=1, response={"resultImageUrl": "https://r/i.jpg"}), ["image"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("model_id", "answer", "kinds"), [c[1:] for c in SUCCESSES], ids=[c[0] for c in SUCCESSES]
)
async def test_results_of_every_family(
    kie: Kie, activities: KieActivities, model_id: str, answer: Answer, kinds: list[str]
) -> None:
    kie.answer = answer
    result = await check(activities, model_id)
    assert result.state == "succeeded"
    assert [f.media_type for f in result.files] == kinds
    assert kie.paths == [CATALOG.get(model_id).status_endpoint]


async def test_suno_titles_and_failures_reach_the_workflow(kie: Kie, activities: KieActivities) -> None:
    kie.answer = ok(
        {
            "taskId": "t1",
            "status": "SUCCESS",
            "response": {"sunoData": [{"audioUrl": "https://r/1.mp3", "title": "A"}]},
        }
    )
    assert [f.title for f in (await check(activities, "suno/generate-music")).files] == ["A"]
    kie.answer = ok({"taskId": "t1", "status": "SENSITIVE_WORD_ERROR", "errorMessage": "flagged"})
    result = await check(activities, "suno/generate-music")
    assert (result.state, result.fail_code, result.fail_message) == (
        "failed",
        "SENSITIVE_WORD_ERROR",
        "flagged",
    )
    kie.answer = Answer(body={"code": 531, "msg": "Generation failed, credits refunded"})
    result = await check(activities, "suno/generate-music")
    assert (result.state, result.fail_code) == ("failed", "531")


async def test_progress_reaches_the_workflow(kie: Kie, activities: KieActivities) -> None:
    kie.answer = ok({"taskId": "t1", "successFlag": 0, "progress": "0.45"})
    result = await check(activities, "gpt4o-image")
    assert (result.state, result.progress) == ("in_progress", 0.45)
    kie.answer = ok({"taskId": "t1", "state": "generating", "progress": 45})
    assert (await check(activities, "kling-2.6/text-to-video")).progress == 0.45


# --- submit_task ----------------------------------------------------------------------------------


async def submit(activities: KieActivities, model_id: str, inputs: dict[str, Any] | None = None):
    spec = CATALOG.get(model_id) if model_id in CATALOG.models else None
    data = SubmitInput(
        generation_id="gen-1-a",
        model_id=model_id,
        inputs=inputs if inputs is not None else dict(spec.example),
    )
    return await ActivityEnvironment().run(activities.submit_task, data)


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("data.taskId", {"code": 200, "msg": "success", "data": {"taskId": "new-1"}}),
        ("top-level", {"code": "200", "message": "success", "taskId": "new-1"}),
        ("data.task_id", {"code": 200, "msg": "success", "data": {"task_id": "new-1"}}),
    ],
)
async def test_submit_reads_the_task_id_anywhere(
    kie: Kie, activities: KieActivities, where: str, body: Any
) -> None:
    kie.answer = Answer(body=body)
    outcome = await submit(activities, "google/nano-banana")
    assert (outcome.ok, outcome.task_id) == (True, "new-1")
    assert activities.generations.task_ids == ["new-1"]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (422, Reason.MODEL_CHANGED),
        (400, Reason.KIE_REJECTED),
        (401, Reason.SERVICE_UNAVAILABLE),
        (402, Reason.SERVICE_UNAVAILABLE),
    ],
)
async def test_submit_refusals_are_outcomes(
    kie: Kie, activities: KieActivities, code: int, reason: Reason
) -> None:
    kie.answer = Answer(body={"code": code, "msg": "no"})
    outcome = await submit(activities, "google/nano-banana")
    assert (outcome.ok, outcome.reason) == (False, reason)


async def test_a_422_on_create_is_schema_drift_recorded_for_the_admins(
    kie: Kie, activities: KieActivities, caplog: pytest.LogCaptureFixture
) -> None:
    # The catalog accepted the inputs, KIE did not: its schema changed. Refunded, recorded, logged; the admin
    # alert (first of the day) cannot start without a Temporal client here, which must not fail the submit.
    kie.answer = Answer(status=422, body={"code": 422, "msg": "prompt: unknown field"})
    with caplog.at_level(logging.ERROR, logger="activities.kie"):
        outcome = await submit(activities, "google/nano-banana")
    assert (outcome.ok, outcome.reason) == (False, Reason.MODEL_CHANGED)
    assert "unknown field" in (outcome.detail or "")
    assert activities.rejections.recorded == [("gen-1-a", "google/nano-banana", "422")]
    assert any("refused google/nano-banana as invalid" in r.getMessage() for r in caplog.records)


async def test_a_422_on_a_follow_up_is_about_its_task_not_the_schema(
    kie: Kie, activities: KieActivities
) -> None:
    # Veo 4K of a task KIE cannot upgrade (too old, not successful): the user's request, not drift.
    kie.answer = Answer(status=422, body={"code": 422, "msg": "record status is not success"})
    outcome = await submit(activities, "grok-imagine/upscale", {"task_id": "task-old"})
    assert (outcome.ok, outcome.reason) == (False, Reason.KIE_REJECTED)
    assert activities.rejections.recorded == []


async def test_an_unreadable_create_answer_is_retried_and_logged(
    kie: Kie, activities: KieActivities, caplog: pytest.LogCaptureFixture
) -> None:
    kie.answer = Answer(body={"code": 200, "msg": "success", "data": {}})  # created, but which task?
    with caplog.at_level(logging.WARNING, logger="activities.kie"), pytest.raises(ApplicationError) as caught:
        await submit(activities, "google/nano-banana")
    assert (caught.value.type, caught.value.non_retryable) == ("KieTransient", False)
    assert any("lost or unreadable" in r.getMessage() for r in caplog.records)


async def test_a_request_that_cannot_be_built_is_an_outcome(
    kie: Kie, activities: KieActivities, caplog: pytest.LogCaptureFixture
) -> None:
    broken = replace_api(activities, "suno/generate-music", "luma")
    with caplog.at_level(logging.ERROR, logger="activities.kie"):
        outcome = await submit(broken, "suno/generate-music")
    assert (outcome.ok, outcome.reason) == (False, Reason.SERVICE_UNAVAILABLE)
    assert "no KIE adapter" in outcome.detail and kie.paths == []
    outcome = await submit(activities, "luma", {"prompt": "x"})
    assert (outcome.ok, outcome.reason) == (False, Reason.SERVICE_UNAVAILABLE)


class _OneModelCatalog:
    def __init__(self, spec: Any) -> None:
        self.spec = spec

    def get(self, model_id: str) -> Any:
        return self.spec


def replace_api(activities: KieActivities, model_id: str, api: str) -> KieActivities:
    spec = CATALOG.get(model_id).model_copy(update={"api": api})
    broken = KieActivities(
        activities.accounts,
        _OneModelCatalog(spec),  # type: ignore[arg-type]
        activities.generations,
        activities.keys,
        activities.rejections,
        limits=LIMITS,
        public_base_url=activities.public_base_url,
        callback_secret=activities.callback_secret,
    )
    return broken


# --- poll_tasks -----------------------------------------------------------------------------------
# News is returned; "still running" is a benign, retryable failure whose delay follows the poll schedule,
# so Temporal (not a workflow task) runs the next poll.


async def poll(activities: KieActivities, *, attempt: int = 1, **inputs: object) -> TaskCheck:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=attempt)
    data = PollInput(generation_id="gen-1-a", model_id="google/nano-banana", task_ids=["t1"])
    return await env.run(activities.poll_tasks, data.model_copy(update=inputs))


@pytest.mark.parametrize(
    ("polls_before", "attempt", "delay"),
    [
        (0, 1, timedelta(minutes=1)),
        (0, 2, timedelta(minutes=2)),
        (0, 3, timedelta(minutes=5)),
        (4, 1, timedelta(minutes=5)),
    ],
)
async def test_still_running_waits_as_the_schedule_says(
    kie: Kie, activities: KieActivities, polls_before: int, attempt: int, delay: timedelta
) -> None:
    kie.answer = rec(state="generating")
    with pytest.raises(ApplicationError) as caught:
        await poll(activities, attempt=attempt, polls_before=polls_before)
    error = caught.value
    assert (error.type, error.non_retryable, error.next_retry_delay) == (STILL_RUNNING, False, delay)
    assert error.category == ApplicationErrorCategory.BENIGN  # logged at DEBUG: it is the normal case


async def test_a_finished_task_is_news(kie: Kie, activities: KieActivities) -> None:
    kie.answer = rec(state="success", resultJson=json.dumps({"resultUrls": ["https://kie.example/a.png"]}))
    news = await poll(activities, attempt=3)
    assert (news.task_id, news.state, news.polls) == ("t1", "succeeded", 3)
    assert [f.url for f in news.files] == ["https://kie.example/a.png"]
    kie.answer = rec(state="fail", failCode="500", failMsg="upstream failed")
    assert (await poll(activities)).state == "failed"


async def test_progress_is_news_a_step_on(kie: Kie, activities: KieActivities) -> None:
    kie.answer = rec(state="generating", progress=45)
    video = "kling-2.6/text-to-video"
    assert (await poll(activities, model_id=video, shown_progress=0.3)).progress == 0.45
    with pytest.raises(ApplicationError):
        await poll(activities, model_id=video, shown_progress=0.4)  # 5 points: not yet a step


async def test_kie_unreachable_is_retried_on_the_retry_policy(kie: Kie, activities: KieActivities) -> None:
    kie.answer = dataclasses.replace(kie.answer, status=502, raw="<html>Bad Gateway</html>")
    with pytest.raises(ApplicationError) as caught:
        await poll(activities)
    assert (caught.value.type, caught.value.next_retry_delay) == ("KieTransient", None)
