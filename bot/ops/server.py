"""The operations endpoint: `/metrics` for Prometheus, `/healthz` for liveness, `/readyz` for readiness.

It listens on `METRICS_HOST:METRICS_PORT` (off unless a port is set) and runs on the bot's own event loop, so
`/healthz` measures exactly what matters: a loop that answers ticks late cannot serve Discord either.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.ops.checks import Check

log = logging.getLogger(__name__)

# Tunables.
TICK_SECONDS = 0.25
MAX_LOOP_LAG_SECONDS = 2.0  # a loop this late on a short sleep is stuck on something blocking
CHECK_TIMEOUT_SECONDS = 3.0


@dataclass
class LoopWatch:
    """Measures how late the event loop runs a short sleep."""

    lag: float = 0.0
    last_tick: float = 0.0

    async def run(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            self.lag, self.last_tick = now - before - TICK_SECONDS, now

    def healthy(self) -> bool:
        # A stuck loop never gets here to answer, but a loop that just recovered from a long stall says so too.
        return self.lag < MAX_LOOP_LAG_SECONDS and time.monotonic() - self.last_tick < MAX_LOOP_LAG_SECONDS + 1


class OpsServer:
    def __init__(self, host: str, port: int, checks: dict[str, Check]) -> None:
        self.host, self.port, self.checks = host, port, checks
        self.watch = LoopWatch(last_tick=time.monotonic())
        self._runner: web.AppRunner | None = None
        self._watching: asyncio.Task[None] | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._watching = asyncio.create_task(self.watch.run())
        log.info("Metrics and health on http://%s:%d (/metrics, /healthz, /readyz)", self.host, self.port)

    async def stop(self) -> None:
        if self._watching is not None:
            self._watching.cancel()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _metrics(self, _request: web.Request) -> web.Response:
        # Rendering every series takes milliseconds: off the loop, so a scrape never delays an acknowledgement.
        body = await asyncio.to_thread(generate_latest, REGISTRY)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _healthz(self, _request: web.Request) -> web.Response:
        healthy = self.watch.healthy()
        body = {"status": "ok" if healthy else "stalled", "loop_lag_seconds": round(self.watch.lag, 4)}
        return _json(body, 200 if healthy else 503)

    async def _readyz(self, _request: web.Request) -> web.Response:
        results = await asyncio.gather(*(self._run(check) for check in self.checks.values()))
        checks = {
            name: {"ready": problem is None, **({"detail": problem} if problem else {})}
            for name, problem in zip(self.checks, results, strict=True)
        }
        ready = all(c["ready"] for c in checks.values())
        return _json({"ready": ready, "checks": checks}, 200 if ready else 503)

    @staticmethod
    async def _run(check: Check) -> str | None:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                return await check()
        except TimeoutError:
            return "no answer within 3 s"
        except Exception as exc:  # a check that breaks means not ready, with the reason for the operator
            return f"{type(exc).__name__}: {exc}"[:200]


def _json(body: object, status: int) -> web.Response:
    return web.Response(text=json.dumps(body), status=status, content_type="application/json")
