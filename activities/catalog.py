"""Validation and pricing from the catalog, and the generation's database row."""

from __future__ import annotations

from typing import Any

from catalog import Catalog, UnknownModel, ValidationFailed
from contracts import activities as contract
from contracts.activities import implements
from contracts.models import InputProblem, Stage, ValidatedGeneration, ValidateInput
from db import Generations


class CatalogActivities:
    def __init__(self, catalog: Catalog, generations: Generations) -> None:
        self.catalog = catalog
        self.generations = generations

    @implements(contract.validate_generation)
    async def validate_generation(self, data: ValidateInput) -> ValidatedGeneration:
        request = data.request
        try:
            spec = self.catalog.get(request.model_id)
        except UnknownModel:
            return await self._rejected(data, "", InputProblem(field="model", rule="unknown_model"))
        if not spec.enabled:
            return await self._rejected(data, spec.format, InputProblem(field="model", rule="disabled_model"))
        try:
            inputs = self.catalog.validate(spec.id, request.inputs)
        except ValidationFailed as failed:
            problems = [InputProblem(field=e.field, rule=e.rule, limits=e.limits) for e in failed.errors]
            return await self._rejected(data, spec.format, *problems)
        price = self.catalog.price(spec.id, inputs)
        # A recipe's step was priced and held by the recipe: its hold is this generation's, at that price.
        credits = request.prepaid if request.prepaid is not None and not price.free else price.credits
        fmt = self.catalog.format(spec.format)
        await self._record(data, spec.format, inputs, credits, price.free)
        await self.generations.set_stage(data.generation_id, Stage.HOLDING.value, status="running")
        present_media = [f for f in spec.media_inputs if inputs.get(f)]
        return ValidatedGeneration(
            ok=True,
            api=spec.api,
            format=spec.format,
            output=spec.output,
            inputs=inputs,
            media_fields=present_media,
            price=credits,
            free=price.free,
            free_daily_allowance=price.free_daily_allowance,
            deadline_seconds=fmt.deadline_seconds,
        )

    async def _rejected(
        self, data: ValidateInput, format_id: str, *errors: InputProblem
    ) -> ValidatedGeneration:
        await self._record(data, format_id, data.request.inputs, 0, False)
        return ValidatedGeneration(ok=False, errors=list(errors))

    async def _record(
        self, data: ValidateInput, format_id: str, inputs: dict[str, Any], price: int, free: bool
    ) -> None:
        # The row backs the workflow id for good: Temporal forgets closed workflows after retention.
        request = data.request
        await self.generations.create(
            data.generation_id,
            user_id=request.user_id,
            chat_id=request.chat_id,
            model_id=request.model_id,
            format=format_id,
            inputs=inputs,
            price=price,
            free=free,
            language=request.language,
            status_message_id=request.status_message_id,
            parent_id=request.parent_id,
            chain_id=request.chain_id,
        )
