"""An OPA-compatible HTTP endpoint for tests (no OPA binary can be installed here).

It speaks the part of OPA's REST API that :class:`accord.policy.engine.OpaEngine`
uses: ``PUT``, ``DELETE`` and ``GET /v1/policies/{id}`` (and the list), ``PUT``,
``DELETE`` and ``GET /v1/data/{path}``, ``POST /v1/data/{path}`` with
``{"input": ...}`` answering ``{"result": ...}`` (no ``result`` key when
undefined), and ``GET /health``. Each request is its own transaction, as in OPA. Decisions are computed by
regopy from the policies and data pushed to it, so the engine under test does
real HTTP against a real Rego evaluation. ``delay`` and ``fail`` let tests
make it slow or broken.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from accord.policy.engine import DECISIONS, GUARD_PACKAGE, RegoEngine

#: The paths a query may ask for: the decisions, and the guard's (see OpaEngine.push).
ENTRYPOINTS = (*DECISIONS, *(f"{GUARD_PACKAGE}/{d.split('/')[1]}" for d in DECISIONS),
               f"{GUARD_PACKAGE}/revision")


class FakeOpa:
    def __init__(self) -> None:
        self.modules: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self._engine: RegoEngine | None = None
        self.delay = 0.0
        self.fail = False
        self.queries = 0
        #: Policy ids whose PUT is refused (a push cut off at that module).
        self.refuse: set[str] = set()

    def _rebuild(self) -> None:
        self._engine = (RegoEngine(self.modules, self.data, ENTRYPOINTS) if self.modules
                        else None)

    async def put_policy(self, request: web.Request) -> web.Response:
        if request.match_info["id"] in self.refuse:
            return web.json_response({"code": "internal_error", "message": "refused"}, status=500)
        self.modules[request.match_info["id"]] = await request.text()
        try:
            self._rebuild()
        except Exception as exc:
            del self.modules[request.match_info["id"]]
            return web.json_response({"code": "invalid_parameter", "message": str(exc)}, status=400)
        return web.json_response({})

    async def list_policies(self, _request: web.Request) -> web.Response:
        return web.json_response({"result": [{"id": i} for i in self.modules]})

    async def delete_policy(self, request: web.Request) -> web.Response:
        if self.modules.pop(request.match_info["id"], None) is None:
            return web.json_response({"code": "resource_not_found", "message": "no policy"},
                                     status=404)
        self._rebuild()
        return web.json_response({})

    async def handle_data(self, request: web.Request) -> web.Response:
        path = request.match_info["path"].strip("/")
        if request.method == "PUT":
            self.data[path] = await request.json()
            if self.modules:
                self._rebuild()
            return web.Response(status=204)
        if request.method == "DELETE":
            if self.data.pop(path, None) is None:
                return web.json_response({"code": "resource_not_found", "message": "no data"},
                                         status=404)
            if self.modules:
                self._rebuild()
            return web.Response(status=204)
        if request.method == "GET":
            return web.json_response({"result": self.data[path]} if path in self.data else {})
        import asyncio

        self.queries += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.fail:
            return web.json_response({"code": "internal_error", "message": "boom"}, status=500)
        if self._engine is None:  # no policies (OPA just started empty): undefined
            return web.json_response({})
        body = await request.json()
        result = self._engine.evaluate_sync(path, body.get("input", {}))
        return web.json_response({} if result is None else {"result": result})

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({})


@asynccontextmanager
async def running_opa() -> AsyncIterator[tuple[FakeOpa, int]]:
    """Start the fake OPA on a free loopback port; yields (server, port)."""
    fake = FakeOpa()
    app = web.Application()
    app.router.add_get("/v1/policies/", fake.list_policies)
    app.router.add_put("/v1/policies/{id}", fake.put_policy)
    app.router.add_delete("/v1/policies/{id}", fake.delete_policy)
    app.router.add_route("*", "/v1/data/{path:.*}", fake.handle_data)
    app.router.add_get("/health", fake.health)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield fake, port
    finally:
        await runner.cleanup()
