"""KIE: create the task (on the fair, rate-limited queue) with one of the keys, and read its status with the
key that made it. One aiohttp session, owned by the worker, shared by every key's client."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.pacing import set_submit_rate, submit_rate
from catalog import Catalog, ModelSpec, UnknownModel
from contracts import activities as contract
from contracts.activities import implements
from contracts.ids import kie_key_alert_id, model_drift_alert_id
from contracts.models import (
    PollInput,
    Reason,
    ResultFile,
    Stage,
    StatusInput,
    SubmitInput,
    SubmitOutcome,
    TaskCheck,
)
from contracts.money import AdminNotice
from contracts.polling import poll
from contracts.routes import kie_callback_url
from db import Generations, KieKeys, ModelRejections
from genflow.settings import Settings
from kie.accounts import KieAccounts
from kie.errors import KieError, KieParseError
from kie.media import media_from_url
from kie.models import MediaType, TaskState, TaskStatus
from kie.models import ResultFile as KieResultFile
from kie.signature import callback_token
from workflows.starter import start_admin_alert

log = logging.getLogger(__name__)

KEY_REFUSED = (401, 403)  # the key itself (revoked, forbidden), not the request
SCHEMA_REFUSED = 422  # on create: inputs the catalog accepted are invalid for KIE (its schema changed)
_STATES: dict[TaskState, Literal["in_progress", "succeeded", "failed"]] = {
    TaskState.IN_PROGRESS: "in_progress",
    TaskState.SUCCEEDED: "succeeded",
    TaskState.FAILED: "failed",
}
# ResultFile.media_type for each of the adapter's media types (the same words).
ResultMedia = Literal["image", "video", "audio", "unknown"]
_MEDIA_TYPES: dict[MediaType, ResultMedia] = {
    MediaType.IMAGE: "image",
    MediaType.VIDEO: "video",
    MediaType.AUDIO: "audio",
    MediaType.UNKNOWN: "unknown",
}


def transient_failure(err: KieError) -> ApplicationError:
    """A retryable activity failure; KIE's or the HTTP layer's retry-after is honoured exactly."""
    delay = timedelta(seconds=err.retry_after) if err.retry_after else None
    return ApplicationError(str(err), type="KieTransient", next_retry_delay=delay)


@dataclass(frozen=True)
class SubmitLimits:
    """KIE's per-key limit, as configured (KIE_RATE_LIMIT_*), and the queue it paces."""

    tasks_per_period: int
    period_seconds: float
    margin_seconds: float
    task_queue: str  # the workflows' queue; submits run on its "-kie" sibling

    @classmethod
    def from_settings(cls, settings: Settings) -> SubmitLimits:
        return cls(
            tasks_per_period=settings.kie_rate_limit_tasks,
            period_seconds=settings.kie_rate_limit_period_seconds,
            margin_seconds=settings.kie_rate_limit_margin_seconds,
            task_queue=settings.temporal_task_queue,
        )

    def rate(self, active_keys: int) -> float:
        return submit_rate(active_keys, self.tasks_per_period, self.period_seconds, self.margin_seconds)


class KieActivities:
    def __init__(
        self,
        accounts: KieAccounts,
        catalog: Catalog,
        generations: Generations,
        keys: KieKeys,
        rejections: ModelRejections,
        *,
        limits: SubmitLimits,
        public_base_url: str,
        callback_secret: str,
    ) -> None:
        self.accounts = accounts
        self.catalog = catalog
        self.generations = generations
        self.keys = keys
        self.rejections = rejections
        self.limits = limits
        self.public_base_url = public_base_url.rstrip("/")
        self.callback_secret = callback_secret

    def callback_url(self, generation_id: str, model_id: str) -> str:
        token = callback_token(self.callback_secret, generation_id)
        return kie_callback_url(self.public_base_url, generation_id, token, model_id)

    @implements(contract.submit_task)
    async def submit_task(self, data: SubmitInput) -> SubmitOutcome:
        """Create the KIE task.

        KIE has no idempotency key: a retry after a lost answer may make a second task, which is why
        callbacks route by generation id and the workflow accepts any task it made.
        """
        gid = data.generation_id
        try:
            spec = self.catalog.get(data.model_id)
        except UnknownModel:
            log.error("submit for a model the catalog does not know", extra={"workflow_id": gid})
            return SubmitOutcome(
                ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail=f"unknown model {data.model_id}"
            )
        await self.generations.set_stage(gid, Stage.SUBMITTING.value)
        key = await self._take_slot(gid, await self._keys_for(spec, data.inputs))
        if key is None:
            log.error("no KIE key in rotation", extra={"workflow_id": gid})
            return SubmitOutcome(ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail="no KIE key in rotation")
        try:
            task_id = await self.accounts.client(key).create_task(
                spec, data.inputs, self.callback_url(gid, spec.id)
            )
        except KieError as err:
            if err.transient:
                if err.ambiguous:
                    # KIE may have created (and will bill) a task anyway; its callback names this generation.
                    log.warning(
                        "KIE create answer lost or unreadable, retrying: %s",
                        err,
                        extra={"workflow_id": gid, "kie_code": err.code},
                    )
                raise transient_failure(err) from err
            if err.operator:
                # Our account or key is the problem, not the user's request. With other keys in rotation
                # this one leaves it and the submit is retried on another; the last key stays (nothing
                # else could serve), and the user is refunded as "temporarily unavailable".
                where = {"workflow_id": gid, "kie_code": err.code, "kie_key": key}
                if await self.keys.disable(key, f"{err.code}: {err}", among=self.accounts.ids):
                    log.error("KIE refused key %s, out of rotation: %s", key, err, extra=where)
                    await self._key_left_rotation(key, err)
                    raise ApplicationError(
                        f"KIE key {key} refused ({err.code}); retrying with another key",
                        type="KieKeyRefused",
                        next_retry_delay=timedelta(milliseconds=100),
                    ) from err
                log.error("KIE refused the account: %s", err, extra=where)
                return SubmitOutcome(ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail=str(err))
            if err.code == SCHEMA_REFUSED and not _parent_tasks(spec, data.inputs):
                return await self._model_refused(gid, spec, err)
            log.info("KIE refused the task: %s", err, extra={"workflow_id": gid, "kie_code": err.code})
            return SubmitOutcome(
                ok=False, reason=Reason.KIE_REJECTED, detail=f"{err.user_reason.value}: {err}"
            )
        except Exception as err:
            # A bug or bad data on our side (the request could not even be built): retrying cannot help.
            log.exception("KIE create could not be attempted", extra={"workflow_id": gid})
            return SubmitOutcome(
                ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail=f"{type(err).__name__}: {err}"
            )
        await self.generations.add_task_id(gid, task_id, key)
        await self.generations.set_stage(gid, Stage.WAITING.value)
        log.info("KIE task created", extra={"workflow_id": gid, "kie_task_id": task_id, "kie_key": key})
        return SubmitOutcome(ok=True, task_id=task_id, key_id=key)

    async def _keys_for(self, spec: ModelSpec, inputs: dict[str, Any]) -> list[str]:
        """The keys that may submit this: a follow-up on an earlier task (an upgrade, an extend) goes to the
        account that made it, which alone knows the task; anything else to any key."""
        for task_id in _parent_tasks(spec, inputs):
            key = await self.generations.key_of_task(task_id)
            if key is not None and key in self.accounts:
                return [key]
        return self.accounts.ids

    async def _take_slot(self, gid: str, key_ids: list[str]) -> str | None:
        """A key with room under KIE's limit, waiting (heartbeating) while every key is at its limit.

        Temporal dispatches at the keys' combined rate, so this rarely waits: only when the server's pacing
        runs ahead of a key's sliding window (a burst after idle, a key just gone).
        """
        while True:
            slot = await self.keys.take_slot(
                key_ids, margin_seconds=self.limits.margin_seconds, generation_id=gid
            )
            if slot.key_id is not None or slot.active_keys == 0:
                return slot.key_id
            activity.heartbeat()
            await asyncio.sleep(min(slot.wait_seconds, 2.0))

    async def _key_left_rotation(self, key: str, err: KieError) -> None:
        """Tell the admins (once: only the call that disabled the key gets here) and slow the queue."""
        active = await self.keys.active(self.accounts.ids)
        client = activity.client()
        try:
            await set_submit_rate(
                client, self.limits.task_queue, self.limits.rate(len(active)), f"KIE key {key} disabled"
            )
        except Exception:  # the slots still keep every key under its limit; the queue just waits more
            log.warning("could not lower the KIE queue's rate", exc_info=True)
        text = (
            f"KIE key {key} was refused ({err.code}: {err}) and is out of rotation; "
            f"{len(active)} key(s) carry on. The credits check puts it back once KIE accepts it."
        )
        await start_admin_alert(
            client,
            AdminNotice(text=text),
            workflow_id=kie_key_alert_id(key, int(time.time())),
            summary=f"KIE key {key} out of rotation",
            task_queue=self.limits.task_queue,
        )

    async def _model_refused(self, gid: str, spec: ModelSpec, err: KieError) -> SubmitOutcome:
        """KIE refused as invalid (422) inputs the catalog accepted: its schema for the model has changed.
        The user is refunded with a message that says so; the admins hear of it once a day per model, and
        the admin panel lists every such refusal."""
        log.error(
            "KIE refused %s as invalid: %s", spec.id, err, extra={"workflow_id": gid, "kie_code": err.code}
        )
        if await self.rejections.record(gid, spec.id, str(err.code), err.message):
            text = (
                f"KIE refused {spec.id} as invalid ({err.code}: {err}) although the catalog accepted the "
                "inputs: its schema has probably changed. The user was refunded. See the admin panel's "
                "catalog drift and `python -m catalog.sync --check --live`."
            )
            try:
                await start_admin_alert(
                    activity.client(),
                    AdminNotice(text=text),
                    workflow_id=model_drift_alert_id(spec.id, time.strftime("%Y-%m-%d", time.gmtime())),
                    summary=f"KIE refused {spec.id} as invalid",
                    task_queue=self.limits.task_queue,
                )
            except Exception:  # the refusal is recorded and shown in the panel either way
                log.warning("could not alert the admins of a model refusal", exc_info=True)
        return SubmitOutcome(ok=False, reason=Reason.MODEL_CHANGED, detail=f"{err.code}: {err}")

    @implements(contract.check_task)
    async def check_task(self, data: StatusInput) -> TaskCheck:
        """KIE's view of a task. Never fails the workflow over an answer it cannot read: that is an
        ``unknown`` state (logged), and the workflow keeps waiting on its deadline."""
        gid, task_id = data.generation_id, data.task_id
        where = {"workflow_id": gid, "kie_task_id": task_id}
        try:
            spec = self.catalog.get(data.model_id)
            status = await self._status(spec, task_id, data.key_id)
        except KieParseError as err:
            log.warning("KIE status unreadable: %s", err, extra=where)
            return TaskCheck(task_id=task_id, state="unknown", fail_code="unparseable", fail_message=str(err))
        except KieError as err:
            if err.transient:
                raise transient_failure(err) from err
            if err.code in KEY_REFUSED:
                # KIE no longer accepts the key that made this task (revoked): its result can never be read,
                # so the user is refunded now rather than at the deadline.
                log.error("KIE refused the task's key: %s", err, extra={**where, "kie_key": data.key_id})
                return TaskCheck(
                    task_id=task_id, state="failed", fail_code="key_refused", fail_message=str(err)
                )
            # 404 and the like: not a task KIE knows (yet); the workflow keeps waiting on its deadline.
            log.info("KIE status refused: %s", err, extra={**where, "kie_code": err.code})
            return TaskCheck(task_id=task_id, state="unknown", fail_code=str(err.code), fail_message=str(err))
        except Exception as err:
            log.exception("KIE status could not be read", extra=where)
            return TaskCheck(
                task_id=task_id,
                state="unknown",
                fail_code="internal_error",
                fail_message=f"{type(err).__name__}: {err}",
            )
        if status.task_id and status.task_id != task_id:
            log.warning("KIE status answered task %s", status.task_id, extra=where)
            return TaskCheck(task_id=task_id, state="unknown", fail_message="status answered another task")
        files = [ResultFile(url=f.url, media_type=_media_type(f), title=f.title) for f in status.files]
        if status.state is TaskState.SUCCEEDED:
            log.info(
                "KIE task succeeded with %d file(s): %s",
                len(files),
                ", ".join(f.media_type for f in files),
                extra=where,
            )
        elif status.state is TaskState.FAILED:
            log.info("KIE task failed: %s %s", status.fail_code, status.fail_message, extra=where)
        return TaskCheck(
            task_id=task_id,
            state=_STATES[status.state],
            files=files,
            progress=status.progress,
            fail_code=status.fail_code,
            fail_message=status.fail_message,
        )

    @implements(contract.poll_tasks)
    async def poll_tasks(self, data: PollInput) -> TaskCheck:
        """``check_task`` on every task of a waiting generation, retried by Temporal until there is news."""
        return await poll(data, self.check_task)

    async def _status(self, spec: ModelSpec, task_id: str, key: str | None) -> TaskStatus:
        """Ask with the key that made the task; a task of unknown origin is looked up with each key.

        Raises the key's refusal (401/403) when that is all we can learn: the task's key was refused, or
        the task is no other key's and one key was refused (its task, most likely).
        """
        if key is not None and key in self.accounts:
            return await self.accounts.client(key).get_status(spec, task_id)
        errors: list[KieError] = []
        for candidate in self.accounts.ids:
            try:
                return await self.accounts.client(candidate).get_status(spec, task_id)
            except KieError as err:
                if err.transient:
                    raise
                errors.append(err)  # not this account's task (404), or a refused key: try the next
        refused = [err for err in errors if err.code in KEY_REFUSED]
        raise refused[0] if refused else errors[-1]


def _parent_tasks(spec: ModelSpec, inputs: dict[str, Any]) -> list[str]:
    """The earlier KIE tasks a follow-up names (``task_id`` inputs; Suno's may be ``<task>:<take>``)."""
    found = []
    for name, field in spec.inputs.items():
        value = inputs.get(name)
        if field.task_id and isinstance(value, str) and value:
            found.append(value.split(":", 1)[0])
    return found


def _media_type(file: KieResultFile) -> ResultMedia:
    """The adapter's reading (family or model output), else what the URL's extension says."""
    media = file.media_type if file.media_type is not MediaType.UNKNOWN else media_from_url(file.url)
    return _MEDIA_TYPES[media]
