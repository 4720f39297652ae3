"""Users walking the bot's form through a replicated stack while it is disrupted: /menu → Create → a model →
its card → the form → a prompt → the overview → Generate. Their updates land on whichever bot replica nginx
picks (a killed one, one behind a cut link, one that just restarted), so each walk shows whether the form
survived the switches: the overview must show the walk's own prompt, and the generation it starts must carry
it. The generations join the run's, and every other check judges them too."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from contracts.buttons import FormAction, FormOp, Generate, Menu, MenuTarget, ModelCard, StartForm
from db.pool import UNREACHABLE
from testkit.chaos.plan import ChaosPlan, Run
from testkit.chat_user import ChatUser, buttons
from testkit.harness import Harness
from testkit.keyboards import matches

MODEL, CODE, FORMAT = "google/nano-banana", "nano-banana", "text-to-image"
HANDLED_WITHIN = 120.0  # an update may wait out a Temporal or PostgreSQL restart in Telegram's retries


async def walk_forms(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    if not plan.form_users:
        return
    users = [
        ChatUser(h, await h.new_user(credits=plan.credits_per_user), within=HANDLED_WITHIN)
        for _ in range(plan.form_users)
    ]
    run.users += [user.id for user in users]  # their money is checked like everyone's
    until = run.began + plan.start_seconds + 10
    await asyncio.gather(*(_walker(h, user, run, until) for user in users))
    done = sum(1 for walk in run.walks if walk["generation"])
    say(f"form walks: {len(run.walks)} by {len(users)} users, {done} ended in a generation")


async def _walker(h: Harness, user: ChatUser, run: Run, until: float) -> None:
    turn = 0
    while time.time() < until:
        turn += 1
        prompt = f"pier {user.id % 100_000}-{turn}"  # short: the overview's button shows it whole
        walk: dict[str, Any] = {"user": user.id, "prompt": prompt, "overview": False, "generation": None}
        run.walks.append(walk)
        try:
            await _walk(h, user, prompt, walk)
        except AssertionError as error:
            tail = [
                (m["message_id"], m["sender"], (m["text"] or m["caption"] or "")[:30])
                for m in (await user.messages())[-6:]
            ]
            walk["error"] = f"{walk.get('step')}: {str(error)[:200]}; sent {user.sent[-3:]}; chat ends {tail}"
        if walk["generation"]:
            run.ids.append(walk["generation"])


async def _walk(h: Harness, user: ChatUser, prompt: str, walk: dict[str, Any]) -> None:
    walk["step"] = "menu"
    await user.send("/menu")
    walk["step"] = "create"
    await user.press(Menu(to=MenuTarget.CREATE))
    walk["step"] = "models"
    await user.find_model(FORMAT, CODE)
    walk["step"] = "card"
    await user.press(ModelCard(code=CODE))
    walk["step"] = "form"
    await user.press(StartForm(code=CODE))
    walk["step"] = "prompt"
    await user.send(prompt)
    # The overview: the newest message with the form's Generate button (a result may arrive after it).
    overview = await user.message_with(lambda b: matches(b["callback_data"], FormAction, op=FormOp.GENERATE))
    walk["overview"] = f"Prompt: {prompt}" in [b["text"] for b in buttons(overview)]
    assert walk["overview"], f"the overview lost the prompt: {[b['text'] for b in buttons(overview)]}"
    walk["step"] = "overview"
    await user.press_for(FormAction, op=FormOp.GENERATE)
    walk["step"] = "confirm"
    await user.press_for(Generate)
    walk["step"] = "generation"
    deadline = time.monotonic() + HANDLED_WITHIN
    while time.monotonic() < deadline:
        try:
            row = await h.pool.fetchrow(
                "SELECT id, status FROM generations WHERE user_id = $1 AND inputs->>'prompt' = $2",
                user.id,
                prompt,
            )
        except (asyncpg.PostgresError, *UNREACHABLE):  # PostgreSQL restarting
            row = None
        if row is not None:
            walk["generation"] = row["id"]
            if row["status"] not in ("pending", "running"):  # like a person: the next walk after the result
                return
        await asyncio.sleep(0.5)
    if walk["generation"] is None:
        last = await user.last()
        raise AssertionError(f"Generate was tapped, no generation started; the bot said {last['text']!r}")
