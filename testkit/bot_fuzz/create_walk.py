"""The create walk: /create → a format → its models (the shortlist, then "More" page by page until the walk's
model shows) → the model's card → every step of its form (text, choice, yes/no, number, JSON, media, "Done")
→ the overview → the confirmation card. Every button is pressed through ``contracts.buttons``."""

from __future__ import annotations

from typing import Any

from bot import forms
from contracts.buttons import FormAction, FormatModels, FormOp, Generate, ModelCard, StartForm
from testkit.bot_fuzz.plan import WALK_MODELS
from testkit.bot_fuzz.updates import media
from testkit.bot_fuzz.user import UserBase, button_of
from testkit.keyboards import unpacked

MAX_PAGES = 10  # "More" pages the walk turns looking for its model (a format has 8 models a page)


class CreateWalk(UserBase):
    async def create_walk(self, turn: int) -> None:
        fmt, code = WALK_MODELS[(turn // 2 + self.id) % len(WALK_MODELS)]
        await self.text("/create", "walk", "command", "formats")
        await self.fuzz("formats")
        if not await self.tap(button_of(FormatModels, format=fmt, page=0), "formats"):
            return
        await self.fuzz("models")
        if not await self.open_model(fmt, code):
            return
        await self.fuzz("card")
        if not await self.tap(button_of(StartForm, code=code), "card"):
            return
        visited: set[str] = set()
        for _ in range(14):
            if self.run.stop:
                return
            state, data = await self.fsm()
            form = forms.Form.from_data(data)
            if form is None or state is None:
                return  # a fuzzed /start or /cancel closed the form
            spec = self.run.catalog.models.get(form.model_id)
            if spec is None:
                return
            if state.endswith(":asking") and form.asking in spec.user_inputs:
                field_spec = spec.user_inputs[form.asking]
                kind = forms.field_kind(field_spec)
                await self.fuzz(f"form:{kind}", form=form, spec=spec)
                state2, data2 = await self.fsm()
                if data2.get(forms.FORM_KEY) != data.get(forms.FORM_KEY) or state2 != state:
                    continue  # the fuzz moved the form: look again
                await self.answer(form, spec, field_spec, kind)
            elif state.endswith(":overview"):
                await self.fuzz("overview", form=form, spec=spec)
                if await self.visit_optional(form, spec, visited):
                    continue
                if not await self.tap(
                    button_of(FormAction, form=form.fid, op=FormOp.GENERATE), "overview"
                ) and not await self.tap(button_of(FormAction, form=form.fid, op=FormOp.ASK), "overview"):
                    return
            elif state.endswith(":confirm"):
                if form.key:
                    self.run.request_keys[self.id] = form.key  # other users forge buttons with it
                await self.fuzz("confirm", form=form, spec=spec)
                price = self.run.catalog.price_rule(spec.id)
                balance = await self.h.pool.fetchval(
                    "SELECT balance FROM accounts WHERE user_id = $1", self.id
                )
                # Generate only when it cannot start anything: a paid model and no credits (the bot says so).
                if not price.free and not balance and form.key:
                    message = self.run.watch.last_message(self.id)
                    if message is not None:
                        generate = Generate(key=form.key).pack()
                        await self.press(message, generate, "walk", "generate_no_credits", "confirm")
                return
            else:
                return

    async def open_model(self, fmt: str, code: str) -> bool:
        """Open the model's card from its format's screen: on the shortlist, or further on, "More" and then
        "›" turning one page at a time until the model shows."""
        card = button_of(ModelCard, code=code)
        for page in range(1, MAX_PAGES + 1):
            if self.screen(card) is not None:
                return await self.tap(card, "models")
            if not await self.tap(button_of(FormatModels, format=fmt, page=page), "models"):
                return False
            if page == 1:
                await self.fuzz("models:more", count=1)
        return False

    async def visit_optional(self, form: forms.Form, spec: Any, visited: set[str]) -> bool:
        """From the overview, open an input the form did not ask for: kinds no user reached yet first."""
        found = self.screen(button_of(FormAction, form=form.fid, op=FormOp.ASK))
        if found is None:
            return False
        unseen, fresh, other = [], [], []
        for data in found[1]:
            action = unpacked(data, FormAction)
            if action is None or action.form != form.fid or action.op != FormOp.ASK or data in visited:
                continue
            field_spec = forms.field_at(spec, action.index) if action.index is not None else None
            if field_spec is None:
                continue
            seen = self.run.steps.get(f"form:{forms.field_kind(field_spec)}", 0)
            (unseen if not seen else fresh if seen < 3 else other).append(data)
        if not unseen and not fresh and (not other or self.rng.random() > 0.3):
            return False
        choice = self.rng.choice(unseen or fresh or other)
        visited.add(choice)
        return await self.tap(lambda data: data == choice, "overview", lambda _choices: choice)

    async def answer(self, form: forms.Form, spec: Any, field_spec: Any, kind: str) -> None:
        step = f"form:{kind}"
        if kind == "choice":
            if not await self.tap(button_of(FormAction, form=form.fid, op=FormOp.CHOOSE), step):
                await self.text(str((field_spec.enum or ["x"])[0]), "walk", "typed_choice", step)
        elif kind == "boolean":
            if not await self.tap(button_of(FormAction, form=form.fid, op=FormOp.YES_NO), step):
                await self.text("yes", "walk", "typed_boolean", step)
        elif kind == "number":
            low = field_spec.minimum if field_spec.minimum is not None else 0
            high = field_spec.maximum if field_spec.maximum is not None else low + 10
            value = (low + high) / 2
            text = str(int(value)) if field_spec.type == "integer" else f"{value:g}"
            await self.text(text, "walk", "number", step)
        elif kind == "json":
            await self.text('[{"text": "Hello there", "voice": "Rachel"}]', "walk", "json", step)
        elif kind == "media":
            done = button_of(FormAction, form=form.fid, op=FormOp.DONE)
            if forms.file_count(form.values, field_spec.name) and await self.tap(done, step):
                return
            await self.good_media(spec, field_spec, step)
        else:
            await self.text(
                self.rng.choice(["a red fox in the snow", "a calm piano piece"]), "walk", "text", step
            )

    async def good_media(self, spec: Any, field_spec: Any, step: str) -> None:
        """A file this input accepts: a real small PNG upload, or a raw update with fitting metadata."""
        for kind, mime in (
            ("photo", "image/jpeg"),
            ("video", "video/mp4"),
            ("audio", "audio/mpeg"),
            ("document", "image/png"),
            ("voice", "audio/ogg"),
        ):
            if self.run.catalog.check_media(spec.id, field_spec.name, kind=kind, mime_type=mime, size=50_000):
                continue
            if kind == "photo" and self.rng.random() < 0.5:
                from simulators.telegram.testing import make_png

                await self.upload("photo", make_png(320, 240), "p.png", "walk", "upload_photo", step)
                return
            await self.raw(
                "message",
                {"from": self.me(), **media(kind, mime, 50_000, self.rng)},
                "walk",
                f"media_{kind}",
                step,
                expect="message",
                counted=True,
            )
            return
