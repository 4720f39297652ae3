"""Postgres for Genflow: migrations, the credit ledger, generation records and the money invariant.

Typical use::

    pool = await create_pool(dsn)      # jsonb <-> dict codec set on every connection
    await migrate(dsn)
    ledger, generations = Ledger(pool), Generations(pool)
"""

from db.entries import Balance, CreditKind, Hold, Movement, MovementKind, User
from db.errors import (
    HoldClosed,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidAmount,
    InvalidArgument,
    LedgerError,
    MigrationError,
    RefundExceedsCharge,
    UnknownHold,
    UnknownUser,
)
from db.free_usage import FreeAllowance
from db.generations import GenerationRecord, Generations, GenerationStatus
from db.invariant import Violation, check_invariant
from db.kie_keys import KeyState, KieKeys, Slot
from db.ledger import Ledger
from db.migrate import migrate
from db.payments import AdminAudit, LinkOutcome, PaymentRecord, Payments, Referrals
from db.pool import create_pool
from db.queue import Place, SubmitQueue
from db.rejections import ModelRejection, ModelRejections
from db.updates import BotUpdates, Claim

__all__ = [
    "AdminAudit",
    "Balance",
    "BotUpdates",
    "Claim",
    "CreditKind",
    "FreeAllowance",
    "GenerationRecord",
    "GenerationStatus",
    "Generations",
    "Hold",
    "HoldClosed",
    "IdempotencyConflict",
    "InsufficientCredits",
    "InvalidAmount",
    "InvalidArgument",
    "KeyState",
    "KieKeys",
    "Ledger",
    "LedgerError",
    "LinkOutcome",
    "MigrationError",
    "ModelRejection",
    "ModelRejections",
    "Movement",
    "MovementKind",
    "PaymentRecord",
    "Payments",
    "Place",
    "Referrals",
    "RefundExceedsCharge",
    "Slot",
    "SubmitQueue",
    "UnknownHold",
    "UnknownUser",
    "User",
    "Violation",
    "check_invariant",
    "create_pool",
    "migrate",
]
