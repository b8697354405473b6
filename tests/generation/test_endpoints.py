"""Each API model on its own endpoint: `name@url`, `name@provider:x`, `#TOKEN_VARIABLE` (real client, local servers)."""

from __future__ import annotations

import socket
from contextlib import aclosing

import pytest

from bot.domain import GenerationParams
from bot.generation.builder import api_endpoints, build_registry
from bot.generation.endpoints import parse_api_model, unreachable
from bot.settings import Settings
from tests.conftest import MODEL_CACHE
from tests.standins.chat_server import REPLY, ChatServer


async def ask(registry, name: str) -> str:  # type: ignore[no-untyped-def]
    backend = registry.backend(name)
    question = [{"role": "user", "content": "hi"}]
    async with aclosing(backend.stream(question, GenerationParams(max_tokens=16))) as pieces:
        return "".join([p async for p in pieces if isinstance(p, str)])


async def test_each_model_reaches_its_own_server_with_its_own_token(monkeypatch: pytest.MonkeyPatch) -> None:
    vllm, tgi = await ChatServer().start(), await ChatServer().start()
    monkeypatch.setenv("TGI_TOKEN", "tgi-secret-7")
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        model_cache_dir=MODEL_CACHE,
        hf_token="hf_shared",
        api_models=f"ok@{vllm.url}/v1, echo@{tgi.url}#TGI_TOKEN, other@provider:together",
    )
    registry = build_registry(settings)
    try:
        assert await ask(registry, "ok") == REPLY
        assert await ask(registry, "echo") == "hi"
        assert [r["model"] for r in vllm.requests] == ["ok"] and [r["model"] for r in tgi.requests] == ["echo"]
        assert vllm.authorizations == ["Bearer hf_shared"] and tgi.authorizations == ["Bearer tgi-secret-7"]
        where = {e.name: e.where for e in registry.entries()}
        assert where["ok"] == f"{vllm.url}/v1" and where["echo"] == tgi.url  # what /model list shows
        assert where["other"] == "Hugging Face API, provider together"
        assert api_endpoints(registry) == [f"{vllm.url}/v1", tgi.url]
    finally:
        await vllm.stop()
        await tgi.stop()


async def test_an_unreachable_server_is_named() -> None:
    up = await ChatServer().start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    try:
        down = await unreachable([up.url, closed])
    finally:
        await up.stop()
    assert list(down) == [closed]


def test_entries_say_what_is_wrong() -> None:
    assert parse_api_model(" m @ http://x:1/ # T ").base_url == "http://x:1"
    with pytest.raises(Exception, match="after @ comes a URL"):
        parse_api_model("m@ftp://x")
