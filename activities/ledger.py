"""Money: hold, charge or release through the idempotent ledger, keyed by the generation id."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio.exceptions import ApplicationError

from activities.queue import QueueActivities
from contracts import activities as contract
from contracts.activities import implements
from contracts.models import HoldInput, HoldOutcome, Outcome, Reason, SettleInput, Stage
from db import Generations, HoldClosed, InsufficientCredits, Ledger
from db.generations import FinalStatus

# The generation's row records each outcome under the same word.
_FINAL_STATUS: dict[Outcome, FinalStatus] = {
    Outcome.SUCCEEDED: "succeeded",
    Outcome.FAILED: "failed",
    Outcome.CANCELLED: "cancelled",
    Outcome.REJECTED: "rejected",
}


def hold_key(generation_id: str) -> str:
    return f"hold:{generation_id}"


def free_key(generation_id: str) -> str:
    return f"free:{generation_id}"


class LedgerActivities:
    def __init__(
        self, ledger: Ledger, generations: Generations, queue: QueueActivities | None = None
    ) -> None:
        self.ledger = ledger
        self.generations = generations
        self.queue = queue

    @implements(contract.hold_credits)
    async def hold_credits(self, data: HoldInput) -> HoldOutcome:
        gid = data.generation_id
        await self.ledger.ensure_user(data.user_id)
        if data.free:
            # The allowance is per UTC day; the key makes a retried activity consume it once.
            day = datetime.now(UTC).date()
            limit = data.free_daily_allowance or 0
            if not await self.ledger.free.consume(data.user_id, day=day, limit=limit, key=free_key(gid)):
                return HoldOutcome(ok=False, reason=Reason.FREE_LIMIT_REACHED)
        else:
            try:
                await self.ledger.hold(data.user_id, data.amount, key=hold_key(gid), generation_id=gid)
            except InsufficientCredits as err:
                return HoldOutcome(
                    ok=False,
                    reason=Reason.INSUFFICIENT_CREDITS,
                    available=err.available,
                    shortfall=err.shortfall,
                )
        balance = await self.ledger.balance(data.user_id)
        if data.enter_queue and self.queue is not None:
            # Held, nothing to prepare: it waits for a KIE submit slot from now (saves the workflow a step).
            place = await self.queue.join(gid, data.user_id)
            return HoldOutcome(ok=True, available=balance.available, queue=place)
        await self.generations.set_stage(gid, Stage.PREPARING.value)
        return HoldOutcome(ok=True, available=balance.available)

    @implements(contract.settle_credits)
    async def settle_credits(self, data: SettleInput) -> None:
        """Charge on success, release on anything else: exactly one of them, whatever is retried."""
        gid = data.generation_id
        try:
            if data.free:
                if not data.success:
                    await self.ledger.free.give_back(key=free_key(gid))
            elif data.success:
                await self.ledger.charge(hold_key=hold_key(gid), key=f"charge:{gid}")
            else:
                await self.ledger.release(hold_key=hold_key(gid), key=f"release:{gid}")
        except HoldClosed as err:
            # The other settlement already happened: a bug, not something a retry can fix. Operators look.
            raise ApplicationError(str(err), type="HoldClosed", non_retryable=True) from err
        await self._record(data)

    @implements(contract.record_outcome)
    async def record_outcome(self, data: SettleInput) -> None:
        """Outcome of a generation that never held anything (bad input, not enough credits)."""
        await self._record(data)

    async def _record(self, data: SettleInput) -> None:
        status = _FINAL_STATUS[data.outcome]
        stage = {
            Outcome.SUCCEEDED: Stage.DELIVERING,
            Outcome.CANCELLED: Stage.CANCELLED,
            Outcome.REJECTED: Stage.REJECTED,
        }.get(data.outcome, Stage.FAILED)
        await self.generations.set_stage(data.generation_id, stage.value)
        await self.generations.finish(
            data.generation_id,
            status,
            result={"task_id": data.task_id, "files": [f.model_dump() for f in data.files]}
            if data.files
            else None,
            error_code=data.reason.value if data.reason else None,
            error_message=data.detail,
        )
