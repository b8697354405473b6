"""What a readiness check is: kept apart from the endpoint so that the bot can register checks without importing the
web server (aiohttp's server side is loaded only when `METRICS_PORT` is set)."""

from collections.abc import Awaitable, Callable

Check = Callable[[], Awaitable[str | None]]  # None when ready, else why not
