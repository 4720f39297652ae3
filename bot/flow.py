"""Moving through the form: ask the next input, show the overview, show the confirmation card.

A ``FormStep`` is one handler's view of the form in progress: where to answer (the message or button),
the FSM context, the services, the language, the model and the form. Shared by the create router (the form
itself) and the generation router ("Try again", a refused Generate). Each step saves the form in the FSM
before showing it, so a restart or another replica continues from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot import forms, views
from bot.services import Services
from bot.states import FormStates
from catalog import FieldError, ModelSpec

Target = Message | CallbackQuery


@dataclass
class FormStep:
    target: Target  # a message gets a new message; a button's message is edited
    state: FSMContext
    services: Services
    lang: str
    spec: ModelSpec
    form: forms.Form

    @classmethod
    async def load(cls, target: Target, state: FSMContext, services: Services, lang: str) -> FormStep | None:
        """The form in progress and its model; None when there is none (or its model is gone)."""
        form = forms.Form.from_data(await state.get_data())
        if form is None:
            return None
        spec = services.catalog.models.get(form.model_id)
        if spec is None or not spec.enabled:
            return None
        return cls(target, state, services, lang, spec, form)

    @property
    def asked(self) -> str | None:
        """The input the form is asking for, if any."""
        return self.form.asking if self.form.asking in self.spec.user_inputs else None

    async def advance(self) -> None:
        """Ask the next missing input, or show the overview when nothing required is missing."""
        name = forms.next_question(self.services.catalog, self.spec, self.form.values)
        if name is not None:
            await self.ask(name)
        else:
            await self.overview()

    async def ask(self, name: str, *, page: int = 0, prefix: str = "") -> None:
        self.form.asking, self.form.page, self.form.key = name, page, None
        await self._save(FormStates.asking)
        field = self.spec.user_inputs[name]
        text, reply_markup = views.question(self.services.catalog, self.spec, field, self.form, self.lang)
        await views.show(self.target, (prefix + text, reply_markup))

    async def overview(self, *, prefix: str = "") -> None:
        self.form.asking, self.form.page, self.form.key = None, 0, None
        await self._save(FormStates.overview)
        text, reply_markup = views.overview(self.services.catalog, self.spec, self.form, self.lang)
        await views.show(self.target, (prefix + text, reply_markup))

    async def confirm(self, user_id: int) -> list[FieldError]:
        """The confirmation card with a fresh request key; or the overview with the problems, returned."""
        catalog, spec, form = self.services.catalog, self.spec, self.form
        errors = forms.check(catalog, spec.id, form.values)
        if errors:
            await self.overview(prefix=views.field_errors(errors, self.lang) + "\n\n")
            return errors
        inputs = catalog.validate(spec.id, form.values)
        price = catalog.price(spec.id, inputs)
        balance = await self.services.ledger.balance(user_id)
        wait = await self.services.queue_wait(user_id)
        form.asking, form.key = None, forms.new_request_key()
        await self._save(FormStates.confirm)
        card = views.confirmation(
            spec, form, inputs, price.credits, price.free, balance, self.lang, queue_wait=wait
        )
        await views.show(self.target, card)
        return []

    async def hint(self) -> None:
        """What the current step expects, for a message that does not fit it."""
        await views.show(self.target, views.step_hint(self.services.catalog, self.spec, self.form, self.lang))

    async def _save(self, step: State) -> None:
        await self.state.set_state(step)
        await self.state.update_data({forms.FORM_KEY: self.form.to_data()})
