"""KIE: create the task (on the rate-limited queue) and read its status. One aiohttp session, owned here."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from catalog import Catalog, UnknownModel
from db import Generations
from kie.client import KieClient
from kie.errors import KieError, KieParseError
from kie.media import media_from_url
from kie.models import MediaType, TaskState
from kie.models import ResultFile as KieResultFile
from kie.signature import callback_token
from workflows.models import Reason, ResultFile, Stage, StatusInput, SubmitInput, SubmitOutcome, TaskCheck

log = logging.getLogger(__name__)

_STATES = {TaskState.IN_PROGRESS: "in_progress", TaskState.SUCCEEDED: "succeeded", TaskState.FAILED: "failed"}


def transient_failure(err: KieError) -> ApplicationError:
    """A retryable activity failure; KIE's or the HTTP layer's retry-after is honoured exactly."""
    delay = timedelta(seconds=err.retry_after) if getattr(err, "retry_after", None) else None
    return ApplicationError(str(err), type="KieTransient", next_retry_delay=delay)


class KieActivities:
    def __init__(
        self,
        client: KieClient,
        catalog: Catalog,
        generations: Generations,
        *,
        public_base_url: str,
        callback_secret: str,
    ) -> None:
        self.client = client
        self.catalog = catalog
        self.generations = generations
        self.public_base_url = public_base_url.rstrip("/")
        self.callback_secret = callback_secret

    def callback_url(self, generation_id: str) -> str:
        token = callback_token(self.callback_secret, generation_id)
        return f"{self.public_base_url}/kie/callback/{generation_id}?t={token}"

    @activity.defn
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
        try:
            task_id = await self.client.create_task(spec, data.inputs, self.callback_url(gid))
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
                # Our account or key is the problem, not the user's request: refund and alert operators.
                log.error(
                    "KIE refused the account: %s", err, extra={"workflow_id": gid, "kie_code": err.code}
                )
                return SubmitOutcome(ok=False, reason=Reason.SERVICE_UNAVAILABLE, detail=str(err))
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
        await self.generations.add_task_id(gid, task_id)
        await self.generations.set_stage(gid, Stage.WAITING.value)
        log.info("KIE task created", extra={"workflow_id": gid, "kie_task_id": task_id})
        return SubmitOutcome(ok=True, task_id=task_id)

    @activity.defn
    async def check_task(self, data: StatusInput) -> TaskCheck:
        """KIE's view of a task. Never fails the workflow over an answer it cannot read: that is an
        ``unknown`` state (logged), and the workflow keeps waiting on its deadline."""
        gid, task_id = data.generation_id, data.task_id
        where = {"workflow_id": gid, "kie_task_id": task_id}
        try:
            spec = self.catalog.get(data.model_id)
            status = await self.client.get_status(spec, task_id)
        except KieParseError as err:
            log.warning("KIE status unreadable: %s", err, extra=where)
            return TaskCheck(task_id=task_id, state="unknown", fail_code="unparseable", fail_message=str(err))
        except KieError as err:
            if err.transient:
                raise transient_failure(err) from err
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


def _media_type(file: KieResultFile) -> str:
    """The adapter's reading (family or model output), else what the URL's extension says."""
    media = file.media_type if file.media_type is not MediaType.UNKNOWN else media_from_url(file.url)
    return media.value
