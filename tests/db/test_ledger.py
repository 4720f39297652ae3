import pickle

import asyncpg
import pytest

from db import (
    Balance,
    HoldClosed,
    IdempotencyConflict,
    InsufficientCredits,
    InvalidAmount,
    InvalidArgument,
    Ledger,
    LedgerError,
    RefundExceedsCharge,
    UnknownHold,
    UnknownUser,
    check_invariant,
)

USER = 1001


async def _entries(ledger: Ledger) -> int:
    return await ledger._pool.fetchval("SELECT count(*) FROM ledger_entries")


@pytest.fixture
async def user(ledger: Ledger) -> int:
    await ledger.ensure_user(USER, language="en")
    return USER


@pytest.fixture
async def funded(ledger: Ledger, user: int) -> int:
    await ledger.credit(user, 100, key="seed", kind="topup")
    return user


def _same(a, b) -> bool:
    """Same movement, ignoring whether this call was a replay."""
    return a.model_dump(exclude={"replayed"}) == b.model_dump(exclude={"replayed"})


# ---------------------------------------- users


async def test_ensure_user_creates_user_and_empty_account(ledger: Ledger) -> None:
    user = await ledger.ensure_user(42)
    assert (user.id, user.language, user.referrer_id, user.referral_code) == (42, None, None, None)
    assert await ledger.balance(42) == Balance(balance=0, held=0, available=0)


async def test_ensure_user_is_idempotent_and_updates_language_only_when_given(ledger: Ledger) -> None:
    first = await ledger.ensure_user(42, language="en")
    again = await ledger.ensure_user(42)
    assert again == first
    changed = await ledger.ensure_user(42, language="ru")
    assert changed.language == "ru" and changed.created_at == first.created_at
    assert (await ledger.ensure_user(42)).language == "ru"
    assert (await ledger.get_user(42)).language == "ru"
    assert await ledger.get_user(43) is None


async def test_unknown_user_is_refused_everywhere(ledger: Ledger) -> None:
    with pytest.raises(UnknownUser) as error:
        await ledger.credit(7, 10, key="k", kind="topup")
    assert error.value.user_id == 7 and "unknown user 7" in str(error.value)
    for call in (
        ledger.hold(7, 1, key="h"),
        ledger.debit(7, 1, key="d", reason="x"),
        ledger.refund(7, 1, key="r", reason="x"),
        ledger.balance(7),
        ledger.recent_movements(7),
    ):
        with pytest.raises(UnknownUser):
            await call
    assert await _entries(ledger) == 0


# ---------------------------------------- credit


async def test_credit_moves_money_in_and_records_an_entry(ledger: Ledger, user: int) -> None:
    movement = await ledger.credit(user, 150, key="topup:1", kind="topup", reason="stars", metadata={"s": 75})
    assert movement.kind == "topup" and movement.amount == 150 and movement.key == "topup:1"
    assert (movement.balance_after, movement.held_after, movement.available_after) == (150, 0, 150)
    assert movement.metadata == {"s": 75} and movement.reason == "stars" and not movement.replayed
    await ledger.credit(user, 5, key="bonus:1", kind="bonus")
    await ledger.credit(user, 5, key="adj:1", kind="adjustment")
    await ledger.credit(user, 5, key="ref:1", kind="refund")
    assert await ledger.balance(user) == Balance(balance=165, held=0, available=165)


async def test_credit_replay_returns_first_result_and_changes_nothing(ledger: Ledger, user: int) -> None:
    first = await ledger.credit(user, 50, key="k1", kind="bonus")
    await ledger.credit(user, 7, key="k2", kind="topup")
    replay = await ledger.credit(user, 50, key="k1", kind="bonus", reason="other reason is not compared")
    assert replay.replayed and _same(replay, first)
    assert replay.balance_after == 50  # the account as the FIRST call left it
    assert (await ledger.balance(user)).balance == 57
    assert await _entries(ledger) == 2


async def test_reusing_a_key_for_something_else_is_a_conflict(ledger: Ledger, user: int) -> None:
    await ledger.ensure_user(2002)
    await ledger.credit(user, 50, key="k", kind="topup")
    for call in (
        ledger.credit(user, 51, key="k", kind="topup"),
        ledger.credit(user, 50, key="k", kind="bonus"),
        ledger.credit(2002, 50, key="k", kind="topup"),
        ledger.hold(user, 50, key="k"),
        ledger.debit(user, 50, key="k", reason="x"),
    ):
        with pytest.raises(IdempotencyConflict) as error:
            await call
        assert error.value.key == "k" and "already used for topup of 50" in str(error.value)
    assert await ledger.balance(user) == Balance(balance=50, held=0, available=50)
    assert await _entries(ledger) == 1


@pytest.mark.parametrize("amount", [0, -1, -100, 1.5, "10", True, None])
async def test_zero_negative_and_non_integer_amounts_are_refused(ledger: Ledger, funded: int, amount) -> None:
    for call in (
        lambda: ledger.credit(funded, amount, key="c", kind="topup"),
        lambda: ledger.hold(funded, amount, key="h"),
        lambda: ledger.debit(funded, amount, key="d", reason="x"),
        lambda: ledger.refund(funded, amount, key="r", reason="x"),
    ):
        with pytest.raises(InvalidAmount, match="positive whole number") as error:
            await call()
        assert isinstance(error.value, ValueError) and error.value.amount == amount
    assert await ledger.balance(funded) == Balance(balance=100, held=0, available=100)
    assert await _entries(ledger) == 1


async def test_bad_keys_and_kinds_are_refused(ledger: Ledger, user: int) -> None:
    with pytest.raises(InvalidArgument, match="key"):
        await ledger.credit(user, 1, key="", kind="topup")
    with pytest.raises(InvalidArgument, match="credit kind"):
        await ledger.credit(user, 1, key="k", kind="charge")  # type: ignore[arg-type]
    assert await _entries(ledger) == 0


# ---------------------------------------- hold / charge / release


async def test_hold_moves_available_to_held(ledger: Ledger, funded: int) -> None:
    movement = await ledger.hold(funded, 30, key="hold:gen-1", generation_id="gen-1")
    assert (movement.kind, movement.hold_key, movement.generation_id) == ("hold", "hold:gen-1", "gen-1")
    assert await ledger.balance(funded) == Balance(balance=100, held=30, available=70)
    hold = await ledger.get_hold("hold:gen-1")
    assert (hold.state, hold.amount, hold.user_id, hold.generation_id) == ("open", 30, funded, "gen-1")
    replay = await ledger.hold(funded, 30, key="hold:gen-1", generation_id="gen-1")
    assert replay.replayed and _same(replay, movement)
    assert await ledger.balance(funded) == Balance(balance=100, held=30, available=70)


async def test_hold_beyond_available_is_refused_and_not_recorded(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 80, key="h1")
    with pytest.raises(InsufficientCredits) as error:
        await ledger.hold(funded, 30, key="h2")
    assert (error.value.available, error.value.required, error.value.shortfall) == (20, 30, 10)
    assert str(error.value) == "insufficient credits: 30 required, 20 available (10 short)"
    assert await ledger.balance(funded) == Balance(balance=100, held=80, available=20)
    assert await ledger.get_hold("h2") is None
    # The refusal is not remembered under the key: after a top-up the same key succeeds.
    await ledger.credit(funded, 10, key="topup:2", kind="topup")
    movement = await ledger.hold(funded, 30, key="h2")
    assert not movement.replayed and movement.available_after == 0


async def test_hold_replay_returns_first_result_even_when_funds_are_gone(ledger: Ledger, funded: int) -> None:
    first = await ledger.hold(funded, 100, key="h")
    replay = await ledger.hold(funded, 100, key="h")
    assert replay.replayed and _same(replay, first)


async def test_charge_turns_a_hold_into_spent_credits(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g", generation_id="g")
    charge = await ledger.charge(hold_key="hold:g", key="charge:g")
    assert (charge.kind, charge.amount) == ("charge", 30)
    assert (charge.hold_key, charge.generation_id) == ("hold:g", "g")
    assert await ledger.balance(funded) == Balance(balance=70, held=0, available=70)
    assert (await ledger.get_hold("hold:g")).state == "charged"
    replay = await ledger.charge(hold_key="hold:g", key="charge:g")
    assert replay.replayed and _same(replay, charge)
    assert await ledger.balance(funded) == Balance(balance=70, held=0, available=70)


async def test_release_gives_a_hold_back(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g")
    release = await ledger.release(hold_key="hold:g", key="release:g")
    assert (release.kind, release.amount) == ("release", 30)
    assert (release.balance_after, release.held_after) == (100, 0)
    replay = await ledger.release(hold_key="hold:g", key="release:g")
    assert replay.replayed and _same(replay, release)
    assert await ledger.balance(funded) == Balance(balance=100, held=0, available=100)
    assert (await ledger.get_hold("hold:g")).state == "released"


async def test_release_after_charge_is_refused(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g")
    await ledger.charge(hold_key="hold:g", key="charge:g")
    with pytest.raises(HoldClosed) as error:
        await ledger.release(hold_key="hold:g", key="release:g")
    assert (error.value.hold_key, error.value.state) == ("hold:g", "charged")
    assert str(error.value) == "hold 'hold:g' is already charged"
    # A second charge under another key is not a replay either.
    with pytest.raises(HoldClosed):
        await ledger.charge(hold_key="hold:g", key="charge:g:again")
    assert await ledger.balance(funded) == Balance(balance=70, held=0, available=70)


async def test_charge_after_release_is_refused(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g")
    await ledger.release(hold_key="hold:g", key="release:g")
    with pytest.raises(HoldClosed) as error:
        await ledger.charge(hold_key="hold:g", key="charge:g")
    assert error.value.state == "released"
    assert await ledger.balance(funded) == Balance(balance=100, held=0, available=100)
    assert await check_invariant(ledger._pool) == []


async def test_charge_key_reused_for_release_is_a_conflict(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g")
    await ledger.charge(hold_key="hold:g", key="close:g")
    with pytest.raises(IdempotencyConflict):
        await ledger.release(hold_key="hold:g", key="close:g")


async def test_unknown_hold(ledger: Ledger, funded: int) -> None:
    with pytest.raises(UnknownHold, match="no hold with key 'nope'"):
        await ledger.charge(hold_key="nope", key="charge:nope")
    with pytest.raises(UnknownHold):
        await ledger.release(hold_key="nope", key="release:nope")
    assert await ledger.get_hold("nope") is None


# ---------------------------------------- refund / debit


async def test_refund_of_a_generation_is_bounded_by_its_charge(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="hold:g", generation_id="g")
    await ledger.charge(hold_key="hold:g", key="charge:g")
    first = await ledger.refund(funded, 20, key="refund:g:1", reason="bad result", generation_id="g")
    assert (first.kind, first.generation_id, first.balance_after) == ("refund", "g", 90)
    assert (await ledger.refund(funded, 20, key="refund:g:1", reason="again", generation_id="g")).replayed
    with pytest.raises(RefundExceedsCharge) as error:
        await ledger.refund(funded, 11, key="refund:g:2", reason="more", generation_id="g")
    assert (error.value.refundable, error.value.requested) == (10, 11)
    await ledger.refund(funded, 10, key="refund:g:2", reason="rest", generation_id="g")
    with pytest.raises(RefundExceedsCharge):
        await ledger.refund(funded, 1, key="refund:never-charged", reason="x", generation_id="other")
    # Without a generation a refund is a goodwill credit.
    await ledger.refund(funded, 500, key="refund:goodwill", reason="sorry")
    assert await ledger.balance(funded) == Balance(balance=600, held=0, available=600)


async def test_debit_takes_only_available_credits(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 60, key="h")
    debit = await ledger.debit(funded, 40, key="fix:1", reason="double top-up")
    assert (debit.kind, debit.reason) == ("debit", "double top-up")
    assert (debit.balance_after, debit.held_after) == (60, 60)
    assert (await ledger.debit(funded, 40, key="fix:1", reason="double top-up")).replayed
    with pytest.raises(InsufficientCredits) as error:
        await ledger.debit(funded, 1, key="fix:2", reason="held credits are not available")
    assert error.value.shortfall == 1
    assert await ledger.balance(funded) == Balance(balance=60, held=60, available=0)


# ---------------------------------------- the database itself


async def test_the_database_refuses_an_overdraft_even_from_raw_sql(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 30, key="h")
    for statement in (
        "UPDATE accounts SET balance = 10 WHERE user_id = $1",  # balance < held
        "UPDATE accounts SET held = -1 WHERE user_id = $1",
        "UPDATE accounts SET balance = -5, held = 0 WHERE user_id = $1",
    ):
        with pytest.raises(asyncpg.CheckViolationError):
            await ledger._pool.execute(statement, funded)
    assert await ledger.balance(funded) == Balance(balance=100, held=30, available=70)


async def test_the_ledger_is_append_only(ledger: Ledger, funded: int) -> None:
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await ledger._pool.execute("UPDATE ledger_entries SET amount = 1")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await ledger._pool.execute("DELETE FROM ledger_entries")
    with pytest.raises(asyncpg.UniqueViolationError):
        await ledger._pool.execute(
            "INSERT INTO ledger_entries (user_id, kind, amount, idempotency_key, balance_after, held_after)"
            " VALUES ($1, 'topup', 1, 'seed', 0, 0)",
            funded,
        )


# ---------------------------------------- reads, payments, errors


async def test_recent_movements_newest_first(ledger: Ledger, funded: int) -> None:
    await ledger.hold(funded, 10, key="h")
    await ledger.charge(hold_key="h", key="c")
    movements = await ledger.recent_movements(funded)
    assert [m.kind for m in movements] == ["charge", "hold", "topup"]
    assert [m.key for m in await ledger.recent_movements(funded, limit=2)] == ["c", "h"]
    await ledger.ensure_user(5)
    assert await ledger.recent_movements(5) == []


async def test_record_payment_credits_once(ledger: Ledger, user: int) -> None:
    movement = await ledger.record_payment(
        user, telegram_payment_charge_id="tg-1", stars=50, credits=100, payload="pack-100"
    )
    assert (movement.key, movement.kind, movement.amount) == ("topup:tg-1", "topup", 100)
    assert movement.metadata == {"telegram_payment_charge_id": "tg-1", "stars": 50}
    replay = await ledger.record_payment(user, telegram_payment_charge_id="tg-1", stars=50, credits=100)
    assert replay.replayed and _same(replay, movement)
    row = await ledger._pool.fetchrow("SELECT * FROM payments")
    assert (row["user_id"], row["stars"], row["credits"], row["status"]) == (user, 50, 100, "credited")
    assert (await ledger.balance(user)).balance == 100
    with pytest.raises(InvalidAmount):
        await ledger.record_payment(user, telegram_payment_charge_id="tg-2", stars=0, credits=100)


def test_errors_are_plain_readable_and_picklable() -> None:
    errors = [
        InsufficientCredits(3, 10),
        InsufficientCredits(available=3, required=10, shortfall=7),
        HoldClosed("hold:x", "released"),
        UnknownUser(9),
        UnknownHold("h"),
        InvalidAmount(0),
        IdempotencyConflict("k", "topup of 1 for user 1", "topup of 2 for user 1"),
        RefundExceedsCharge("g", 1, 2),
    ]
    for error in errors:
        assert isinstance(error, LedgerError)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error) and str(copy) == str(error) and copy.args == error.args
    assert errors[0].shortfall == 7 and errors[0].args == errors[1].args


async def test_hold_all_is_all_or_nothing_and_replays(ledger: Ledger, funded: int) -> None:
    user = funded  # 100 credits
    with pytest.raises(InsufficientCredits):
        await ledger.hold_all(user, [("hold:r-1", 60, "r-1"), ("hold:r-2", 50, "r-2")])
    assert (await ledger.balance(user)).held == 0  # nothing held: the two did not fit together
    first = await ledger.hold_all(user, [("hold:r-1", 60, "r-1"), ("hold:r-2", 30, "r-2")])
    assert [m.replayed for m in first] == [False, False]
    again = await ledger.hold_all(user, [("hold:r-1", 60, "r-1"), ("hold:r-2", 30, "r-2")])
    assert [m.replayed for m in again] == [True, True]
    # A step's own hold with the same key and amount is the recipe's hold: no second one.
    assert (await ledger.hold(user, 30, key="hold:r-2", generation_id="r-2")).replayed
    balance = await ledger.balance(user)
    assert (balance.held, balance.available) == (90, 10)
