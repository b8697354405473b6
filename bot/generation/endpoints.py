"""Where each API model runs: its own server or provider when its entry says so, else the shared default.

An `API_MODELS` entry is `name[@where][#TOKEN_VARIABLE]`:

- `name` alone uses `HF_BASE_URL` / `HF_PROVIDER` and `HF_TOKEN`;
- `name@http://host:port` sends that model to an OpenAI-compatible server of its own (vLLM, TGI, llama-server…);
- `name@provider:together` sends it through that Hugging Face Inference Provider;
- `#TOKEN_VARIABLE` names the environment variable holding that endpoint's token (never the token itself).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp

from bot.errors import BotError

log = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True, slots=True)
class ApiModelSpec:
    name: str
    base_url: str | None = None
    provider: str | None = None
    token_variable: str | None = None


def parse_api_model(entry: str) -> ApiModelSpec:
    rest, _, variable = entry.strip().partition("#")
    name, _, where = rest.strip().partition("@")
    name, where, token_variable = name.strip(), where.strip(), variable.strip() or None
    if not name:
        raise BotError(f"API_MODELS entry {entry!r} has no model name.")
    if not where:
        return ApiModelSpec(name, token_variable=token_variable)
    if where.startswith("provider:"):
        return ApiModelSpec(name, provider=where.removeprefix("provider:"), token_variable=token_variable)
    if where.startswith(("http://", "https://")):
        return ApiModelSpec(name, base_url=where.rstrip("/"), token_variable=token_variable)
    raise BotError(f"API_MODELS entry {entry!r}: after @ comes a URL (http://…) or provider:NAME.")


async def unreachable(urls: list[str]) -> dict[str, str]:
    """The servers that did not answer at all (any HTTP answer, even an error, means the server is there)."""

    async def probe(session: aiohttp.ClientSession, url: str) -> tuple[str, str | None]:
        models = url + ("/models" if url.endswith("/v1") else "/v1/models")
        try:
            async with session.get(models, timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)) as response:
                await response.read()
            return url, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return url, f"{type(exc).__name__}: {exc}"[:200]

    async with aiohttp.ClientSession() as session:
        results = await asyncio.gather(*(probe(session, url) for url in dict.fromkeys(urls)))
    return {url: reason for url, reason in results if reason is not None}
