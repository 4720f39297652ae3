"""Errors of the ledger package.

Plain exceptions: the data is in attributes (and in ``args``, so they pickle), the message is readable.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of every error raised by ``db``."""


class InvalidArgument(LedgerError, ValueError):
    """A caller passed something the ledger refuses before touching the database."""


class InvalidAmount(InvalidArgument):
    def __init__(self, amount: object, what: str = "amount") -> None:
        super().__init__(amount, what)
        self.amount = amount
        self.what = what

    def __str__(self) -> str:
        return f"{self.what} must be a positive whole number of credits, got {self.amount!r}"


class UnknownUser(LedgerError, LookupError):
    def __init__(self, user_id: int) -> None:
        super().__init__(user_id)
        self.user_id = user_id

    def __str__(self) -> str:
        return f"unknown user {self.user_id} (call ensure_user first)"


class UnknownHold(LedgerError, LookupError):
    def __init__(self, hold_key: str) -> None:
        super().__init__(hold_key)
        self.hold_key = hold_key

    def __str__(self) -> str:
        return f"no hold with key {self.hold_key!r}"


class InsufficientCredits(LedgerError):
    """Available credits (balance - held) do not cover the amount; nothing was changed or recorded."""

    def __init__(self, available: int, required: int, shortfall: int | None = None) -> None:
        shortfall = required - available if shortfall is None else shortfall
        super().__init__(available, required, shortfall)
        self.available = available
        self.required = required
        self.shortfall = shortfall

    def __str__(self) -> str:
        return (
            f"insufficient credits: {self.required} required, {self.available} available "
            f"({self.shortfall} short)"
        )


class HoldClosed(LedgerError):
    """The hold was already charged or released (by another key); a hold closes exactly once."""

    def __init__(self, hold_key: str, state: str) -> None:
        super().__init__(hold_key, state)
        self.hold_key = hold_key
        self.state = state

    def __str__(self) -> str:
        return f"hold {self.hold_key!r} is already {self.state}"


class RefundExceedsCharge(LedgerError):
    """A refund for a generation would give back more than was charged for it."""

    def __init__(self, generation_id: str, refundable: int, requested: int) -> None:
        super().__init__(generation_id, refundable, requested)
        self.generation_id = generation_id
        self.refundable = refundable
        self.requested = requested

    def __str__(self) -> str:
        return (
            f"refund of {self.requested} for generation {self.generation_id!r} refused: "
            f"only {self.refundable} charged and not yet refunded"
        )


class IdempotencyConflict(LedgerError):
    """The key was already used for a different operation (other user, kind, amount or hold)."""

    def __init__(self, key: str, recorded: str, requested: str) -> None:
        super().__init__(key, recorded, requested)
        self.key = key
        self.recorded = recorded
        self.requested = requested

    def __str__(self) -> str:
        return f"idempotency key {self.key!r} was already used for {self.recorded}; refusing {self.requested}"


class MigrationError(LedgerError):
    """The migrations on disk and those recorded in the database disagree."""
