"""Recipes: ready multi-step creations from the menu (🧪). The list, a recipe's card (its steps and their
prices), its questions (every step's, in order), the confirmation card with the whole price, then the
recipe's workflow; its status message has a Cancel button (the running step finishes, the rest is released).
"""

from __future__ import annotations

import asyncio
from contextlib import suppress

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from bot import forms, keyboards, recipe_form, views
from bot.keyboards import button, home_row, markup, menu_button
from bot.routers.create import MEDIA
from bot.services import Services
from bot.states import RecipeStates
from catalog import RecipeSpec
from contracts import generation
from contracts.buttons import Menu, MenuTarget, RecipeAction, RecipeOp
from contracts.ids import recipe_id
from contracts.recipes import RecipeRequest
from workflows.starter import start_recipe

CANCEL_TIMEOUT = 10.0


def router() -> Router:
    r = Router(name="recipes")
    r.callback_query.register(recipes, Menu.filter(F.to == MenuTarget.RECIPES))
    r.callback_query.register(card, RecipeAction.filter(F.op == RecipeOp.SHOW))
    r.callback_query.register(begin, RecipeAction.filter(F.op == RecipeOp.START))
    r.callback_query.register(confirmed, RecipeAction.filter(F.op == RecipeOp.CONFIRM))
    r.callback_query.register(cancel, RecipeAction.filter(F.op == RecipeOp.CANCEL))
    r.message.register(answered, RecipeStates.asking, (F.text & ~F.text.startswith("/")) | MEDIA)
    return r


def stale(callback_answer: CallbackAnswer) -> None:
    callback_answer.text = _("This button is out of date. Open /menu to start again.")


async def recipes(callback: CallbackQuery, state: FSMContext, services: Services, lang: str) -> None:
    await state.clear()
    rows = [
        [button(recipe.title_for(lang), RecipeAction(op=RecipeOp.SHOW, ref=recipe.id))]
        for recipe in services.catalog.recipes.values()
    ]
    text = _("🧪 Recipes: several steps in one go. The whole price is shown before you start.")
    await views.show(callback, (text, markup([*rows, home_row()])))


async def card(
    callback: CallbackQuery,
    callback_data: RecipeAction,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    recipe = services.catalog.recipes.get(callback_data.ref)
    if recipe is None:
        return stale(callback_answer)
    lines = [recipe.title_for(lang), recipe.description_for(lang), ""]
    for index, step in enumerate(recipe.steps, start=1):
        spec = services.catalog.get(step.model)
        low, high = services.catalog.price_range(spec.id)
        span = views.credits(low, lang) if low == high else f"{low}–{views.credits(high, lang)}"
        lines.append(f"{index}. {spec.title_for(lang)} · {span}")
    rows = [
        [button(_("▶️ Start"), RecipeAction(op=RecipeOp.START, ref=recipe.id))],
        [menu_button(_("⬅️ Back"), MenuTarget.RECIPES), *home_row()],
    ]
    await views.show(callback, ("\n".join(lines), markup(rows)))


async def begin(
    callback: CallbackQuery,
    callback_data: RecipeAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    recipe = services.catalog.recipes.get(callback_data.ref)
    if recipe is None:
        return stale(callback_answer)
    await state.clear()
    await _next(callback, state, services, recipe, recipe_form.new_form(recipe), lang)


async def _next(
    target: Message | CallbackQuery,
    state: FSMContext,
    services: Services,
    recipe: RecipeSpec,
    form: recipe_form.RecipeForm,
    lang: str,
    prefix: str = "",
) -> None:
    """Ask the next question, or show the confirmation card once every step has its answers."""
    questions = recipe_form.questions(services.catalog, recipe)
    if form.at < len(questions):
        question = questions[form.at]
        spec = services.catalog.get(recipe.steps[question.step].model)
        await state.set_state(RecipeStates.asking)
        await state.set_data(form.to_data())
        how = (
            views.media_prompt(services.catalog, spec, question.field, lang)
            if forms.field_kind(question.field) == "media"
            else _("Send the text.")
        )
        head = _("Step {step} of {steps} · {model} · {input}").format(
            step=question.step + 1,
            steps=len(recipe.steps),
            model=spec.title_for(lang),
            input=question.field.title_for(lang),
        )
        await views.show(target, (f"{prefix}{head}\n{how}", keyboards.home()))
        return
    await _confirmation(target, state, services, recipe, form, lang)


async def _confirmation(
    target: Message | CallbackQuery,
    state: FSMContext,
    services: Services,
    recipe: RecipeSpec,
    form: recipe_form.RecipeForm,
    lang: str,
) -> None:
    assert target.from_user is not None
    prices = recipe_form.prices(services.catalog, recipe, form) or []
    total = sum(prices)
    balance = await services.ledger.balance(target.from_user.id)
    form.key = recipe_form.new_request_key()
    await state.set_state(RecipeStates.confirm)
    await state.set_data(form.to_data())
    lines = [recipe.title_for(lang), ""]
    for index, (step, price) in enumerate(zip(recipe.steps, prices, strict=True), start=1):
        lines.append(
            f"{index}. {services.catalog.get(step.model).title_for(lang)} · {views.credits(price, lang)}"
        )
    lines += [
        "",
        _("Total: {price}, held before the first step; each step is charged when it succeeds.").format(
            price=views.credits(total, lang)
        ),
        _("Available: {available}").format(available=views.credits(balance.available, lang)),
    ]
    rows = []
    if balance.available >= total:
        go = RecipeAction(op=RecipeOp.CONFIRM, ref=form.key)
        rows.append([button(_("✨ Start · {price}").format(price=total), go)])
    else:
        shortfall = total - balance.available
        lines.append(_("Not enough credits: {shortfall} more needed.").format(shortfall=shortfall))
        rows.append([menu_button(_("💳 Top up"), MenuTarget.TOP_UP)])
    rows.append(home_row())
    await views.show(target, ("\n".join(lines), markup(rows)))


async def answered(message: Message, state: FSMContext, services: Services, lang: str) -> None:
    form = recipe_form.RecipeForm.from_data(await state.get_data())
    recipe = services.catalog.recipes.get(form.recipe_id) if form else None
    questions = recipe_form.questions(services.catalog, recipe) if recipe else []
    if form is None or recipe is None or form.at >= len(questions):
        await state.clear()
        await views.show(message, views.menu())
        return
    question = questions[form.at]
    spec = services.catalog.get(recipe.steps[question.step].model)
    answers = form.answers[question.step]
    if forms.field_kind(question.field) == "media":
        media = forms.incoming_media(message)
        refusal = (
            services.catalog.check_media(
                spec.id, question.name, kind=media.kind, mime_type=media.mime_type, size=media.size
            )
            if media is not None
            else None
        )
        if media is None or refusal is not None:
            problem = refusal.message(lang) if refusal else _("Please send a file here.")
            await _next(message, state, services, recipe, form, lang, prefix=f"⚠️ {problem}\n\n")
            return
        value = forms.add_file(question.field, answers, media.file_id)[question.name]
    elif message.text:
        value = forms.read_text(question.field, message.text)
    else:
        await _next(message, state, services, recipe, form, lang, prefix=_("Please send the text.") + "\n\n")
        return
    inputs = {**recipe_form.step_inputs(services.catalog, recipe, form, question.step), question.name: value}
    errors = forms.errors_for(services.catalog, spec, inputs, question.name)
    if errors:
        await _next(
            message, state, services, recipe, form, lang, prefix=views.field_errors(errors, lang) + "\n\n"
        )
        return
    answers[question.name] = value
    form.at += 1
    await _next(message, state, services, recipe, form, lang)


async def confirmed(
    callback: CallbackQuery,
    callback_data: RecipeAction,
    state: FSMContext,
    services: Services,
    lang: str,
    callback_answer: CallbackAnswer,
) -> None:
    user_id = callback.from_user.id
    key = callback_data.ref
    if await services.store.started_request(user_id, key) is not None:
        callback_answer.text = _("This generation has already started.")
        return
    form = recipe_form.RecipeForm.from_data(await state.get_data())
    recipe = services.catalog.recipes.get(form.recipe_id) if form else None
    if form is None or recipe is None or form.key != key:
        callback_answer.text = _("This confirmation is out of date. Open /menu to start again.")
        return
    message = callback.message if isinstance(callback.message, Message) else None
    chat_id = message.chat.id if message else user_id
    request = RecipeRequest(
        user_id=user_id,
        chat_id=chat_id,
        request_key=key,
        recipe_id=recipe.id,
        steps=recipe_form.steps(services.catalog, recipe, form),
        language="ru" if lang == "ru" else "en",
    )
    workflow_id = recipe_id(user_id, key)
    if not await services.store.claim_request(user_id, key, workflow_id, request.model_dump(mode="json")):
        callback_answer.text = _("This generation has already started.")  # another replica was faster
        return
    assert callback.bot is not None
    cancel_button = markup([[button(_("✖️ Cancel"), RecipeAction(op=RecipeOp.CANCEL, ref=key))]])
    text = _("🧪 Starting {recipe}…").format(recipe=recipe.title_for(lang))
    status = await callback.bot.send_message(chat_id, text, reply_markup=cancel_button)
    await services.store.set_status_message(user_id, key, status.message_id)
    request.status_message_id = status.message_id
    await start_recipe(services.temporal, request, task_queue=services.task_queue)
    await state.clear()
    callback_answer.text = _("Started!")
    if message is not None:
        with suppress(TelegramBadRequest):
            await message.edit_reply_markup(reply_markup=keyboards.home())


async def cancel(
    callback: CallbackQuery, callback_data: RecipeAction, services: Services, callback_answer: CallbackAnswer
) -> None:
    # The key names a recipe of the pressing user's: another user's key finds nothing of theirs.
    handle = services.temporal.get_workflow_handle(recipe_id(callback.from_user.id, callback_data.ref))
    try:
        await asyncio.wait_for(generation.cancel(handle), CANCEL_TIMEOUT)
    except WorkflowUpdateFailedError:
        callback_answer.text = _("This generation has already finished.")
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        stale(callback_answer)
    except TimeoutError:
        callback_answer.text = _("Could not cancel right now. Please try again.")
    else:
        callback_answer.text = _("Cancelled: the running step finishes, the rest comes back to your balance.")
