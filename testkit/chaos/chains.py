"""Chains in the chaos run: recipes (a parent workflow with a child generation per step) started beside the
single generations, some with a step that fails; after the run each recipe must have closed with every hold
it took charged or released once, and its steps join the generations every other check judges."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from catalog import get_catalog
from contracts.ids import recipe_step_id
from contracts.models import Outcome
from contracts.recipes import RecipeRequest, RecipeResult, StepRequest
from testkit.chaos.plan import ChaosPlan, Run
from testkit.checks import Check, passed_if
from testkit.harness import Harness
from workflows.starter import start_recipe

RECIPE = "story"  # text -> image -> video


def recipe_request(user: int, key: str, *, fail: bool) -> RecipeRequest:
    catalog = get_catalog()
    recipe = catalog.recipe(RECIPE)
    answers = [dict(step.example) for step in recipe.steps]
    if fail:  # the video step fails at KIE: the image is charged, the video released
        answers[-1]["prompt"] = f"{answers[-1].get('prompt', '')} [sim:fail]"
    steps = []
    for index, step in enumerate(recipe.steps):
        spec = catalog.get(step.model)
        previous = step.from_previous
        steps.append(
            StepRequest(
                model_id=step.model,
                inputs=recipe.step_inputs(index, answers[index]),
                from_previous=previous,
                from_previous_is_list=previous is not None and spec.inputs[previous].type == "array",
            )
        )
    return RecipeRequest(user_id=user, chat_id=user, request_key=key, recipe_id=RECIPE, steps=steps)


async def start_recipes(h: Harness, plan: ChaosPlan, run: Run, say) -> None:
    """Recipes spread over the start window, a share of them with a failing step."""
    if not plan.recipes:
        return
    rng = random.Random(plan.seed + 1)
    gap = plan.start_seconds / plan.recipes
    for index in range(plan.recipes):
        user = run.users[1 + index % (plan.users - 1)]  # not the blocked user: deliveries are checked
        key = f"chain{run.began:.0f}n{index}"
        request = recipe_request(user, key, fail=rng.random() < plan.recipe_fail_share)
        for attempt in range(60):
            try:
                handle = await start_recipe(h.client, request, task_queue=h.task_queue)
            except RPCError:
                await asyncio.sleep(min(5, 0.2 * (attempt + 1)))
                continue
            run.recipe_ids.append(handle.id)
            run.recipe_steps[handle.id] = [recipe_step_id(user, key, i) for i in range(len(request.steps))]
            break
        await asyncio.sleep(gap)
    say(f"{len(run.recipe_ids)} recipes started")


async def settle_recipes(h: Harness, plan: ChaosPlan, run: Run) -> None:
    """Wait for every recipe; then its steps that ran join the generations the run judges."""
    closed = await h.wait_closed(run.recipe_ids, within=plan.settle_timeout)
    for workflow_id, description in closed.items():
        if description.status == WorkflowExecutionStatus.COMPLETED:
            handle = h.client.get_workflow_handle(workflow_id, result_type=RecipeResult)
            run.recipe_results[workflow_id] = await handle.result()
    rows = await h.pool.fetch("SELECT id FROM generations WHERE chain_id = ANY($1)", run.recipe_ids)
    started = {row["id"] for row in rows}
    for steps in run.recipe_steps.values():
        run.ids.extend(step for step in steps if step in started)


async def check_recipes(h: Harness, run: Run) -> tuple[Check, dict[str, Any]]:
    """Every recipe completed; each hold it took was closed exactly once; charged = its successful steps'
    prices; a step after a failed one never ran."""
    problems: list[str] = []
    outcomes: dict[str, int] = {}
    for workflow_id in run.recipe_ids:
        result = run.recipe_results.get(workflow_id)
        if result is None:
            problems.append(f"{workflow_id} did not complete")
            continue
        outcomes[result.outcome.value] = outcomes.get(result.outcome.value, 0) + 1
        steps = run.recipe_steps[workflow_id]
        entries = await h.pool.fetch(
            "SELECT generation_id, kind, amount FROM ledger_entries WHERE generation_id = ANY($1)", steps
        )
        for step in steps:
            kinds = sorted(e["kind"] for e in entries if e["generation_id"] == step)
            if kinds not in ([], ["charge", "hold"], ["hold", "release"]):
                problems.append(f"{step}: {kinds}")
        charged = sum(e["amount"] for e in entries if e["kind"] == "charge")
        if charged != result.charged:
            problems.append(f"{workflow_id}: charged {charged}, the recipe says {result.charged}")
        ran = [s.outcome for s in result.steps]
        after_failure = ran[ran.index(Outcome.FAILED) + 1 :] if Outcome.FAILED in ran else []
        if any(outcome is not None for outcome in after_failure):
            problems.append(f"{workflow_id}: a step ran after a failed one")
    check = passed_if(
        "every recipe closed, each step's hold charged or released once",
        not problems and len(run.recipe_results) == len(run.recipe_ids),
        f"{len(run.recipe_ids)} recipes: {outcomes}; {len(problems)} problem(s)"
        + (f" e.g. {problems[:3]}" if problems else ""),
    )
    return check, {"recipes": outcomes}
