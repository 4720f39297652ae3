"""``/_sim/*``: the simulator's own control panel (plain JSON, no KIE envelope, no auth).

==============================  =====================================================================
``GET  /_sim/config``           the current KieSimConfig
``POST /_sim/config``           apply a partial JSON patch (validated; 400 with the errors otherwise)
``GET  /_sim/tasks``            every task, summarised (``?family=market`` to filter)
``GET  /_sim/tasks/{id}``       one task: body, plan, stage, callbacks sent (404 if unknown)
``POST /_sim/tasks/{id}/complete``  finish now; optional ``{"outcome": "success"|"fail", "code", "msg"}``
``GET  /_sim/stats``            counters (creates, refusals, callbacks...) and the credit balance
``POST /_sim/reset``            forget tasks, uploads and counters; restore credits and the seed
==============================  =====================================================================
"""

from __future__ import annotations

from typing import Any

import pydantic
from aiohttp import web

from simulators.kie.engine import Engine
from simulators.kie.envelope import json_body, reply


class AdminRoutes:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_sim/config", self.get_config),
            web.post("/_sim/config", self.patch_config),
            web.get("/_sim/tasks", self.list_tasks),
            web.get("/_sim/tasks/{task_id}", self.get_task),
            web.post("/_sim/tasks/{task_id}/complete", self.complete_task),
            web.get("/_sim/stats", self.get_stats),
            web.post("/_sim/reset", self.reset),
            # KIE's account balance lives here too: it is state of the simulated account.
            web.get("/api/v1/chat/credit", self.credit),
        ]

    async def get_config(self, request: web.Request) -> web.Response:
        return web.json_response(self.engine.config.model_dump())

    async def patch_config(self, request: web.Request) -> web.Response:
        patch = await json_body(request)
        if patch is None:
            return web.json_response({"error": "expected a JSON object"}, status=400)
        try:
            config = self.engine.reconfigure(patch)
        except pydantic.ValidationError as exc:
            problems = exc.errors(include_url=False, include_context=False)
            return web.json_response({"error": problems}, status=400)
        return web.json_response(config.model_dump())

    async def list_tasks(self, request: web.Request) -> web.Response:
        family = request.query.get("family")
        tasks = [t.summary() for t in self.engine.tasks.values() if family in (None, t.family.name)]
        return web.json_response({"tasks": tasks})

    async def get_task(self, request: web.Request) -> web.Response:
        task = self.engine.tasks.get(request.match_info["task_id"])
        if task is None:
            return web.json_response({"error": "no such task"}, status=404)
        return web.json_response(task.details())

    async def complete_task(self, request: web.Request) -> web.Response:
        task = self.engine.tasks.get(request.match_info["task_id"])
        if task is None:
            return web.json_response({"error": "no such task"}, status=404)
        if task.is_final:
            return web.json_response({"error": "task is already final", "task": task.details()}, status=409)
        order: dict[str, Any] = (await json_body(request) if request.can_read_body else None) or {}
        outcome = order.get("outcome")
        if outcome not in (None, "success", "fail"):
            return web.json_response({"error": "outcome must be success or fail"}, status=400)
        code = order.get("code")
        if code is not None and not (isinstance(code, int) or str(code).isdigit()):
            return web.json_response({"error": "code must be an integer"}, status=400)
        self.engine.force_complete(task, outcome, int(code) if code is not None else None, order.get("msg"))
        return web.json_response(task.details())

    async def get_stats(self, request: web.Request) -> web.Response:
        tasks = self.engine.tasks.values()
        return web.json_response(
            {
                **self.engine.stats,
                "credits": self.engine.credits,
                "tasks": len(tasks),
                "tasks_in_progress": sum(not t.is_final for t in tasks),
            }
        )

    async def reset(self, request: web.Request) -> web.Response:
        self.engine.reset()
        return web.json_response({"ok": True})

    async def credit(self, request: web.Request) -> web.Response:
        return reply(200, "success", self.engine.credits)
