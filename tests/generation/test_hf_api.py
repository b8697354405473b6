"""The HF API backend with the real huggingface_hub client against a local TGI-like server."""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import pytest

from bot.domain import GenerationParams
from bot.errors import GenerationInterrupted, InvalidInputError, ModelUnavailableError, UnknownModelError
from bot.generation.hf_api import ApiConfig, HFApiBackend
from tests.standins.chat_server import REPLY, ChatServer

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def backend(server: ChatServer, model: str = "ok", **config: object) -> HFApiBackend:
    settings = {
        "base_url": server.url,
        "token": "hf_test_token",
        "timeout_seconds": 5.0,
        "retry_max_wait_seconds": 2.0,
        **config,
    }
    return HFApiBackend(model, ApiConfig(**settings))  # type: ignore[arg-type]


async def collect(b: HFApiBackend, messages=QUESTION, params=None) -> list[str]:  # type: ignore[no-untyped-def]
    async with aclosing(b.stream(messages, params or GenerationParams(max_tokens=64))) as pieces:
        return [p async for p in pieces if isinstance(p, str)]


async def test_normal_stream_arrives_piece_by_piece(chat_server: ChatServer) -> None:
    pieces = await collect(backend(chat_server))
    assert "".join(pieces) == REPLY
    assert len(pieces) == len(REPLY.split(" "))
    sent = chat_server.requests[0]
    assert sent["stream"] is True and sent["model"] == "ok" and sent["max_tokens"] == 64
    assert sent["messages"] == QUESTION


async def test_generation_parameters_reach_the_server(chat_server: ChatServer) -> None:
    params = GenerationParams(max_tokens=10, temperature=0.5, top_p=0.9, top_k=40, stop=("END",))
    await collect(backend(chat_server), params=params)
    sent = chat_server.requests[0]
    assert (sent["temperature"], sent["top_p"], sent["top_k"], sent["stop"]) == (0.5, 0.9, 40, ["END"])


async def test_model_loading_503_is_retried_then_succeeds(chat_server: ChatServer) -> None:
    pieces = await collect(backend(chat_server, "loading-2"))
    assert "".join(pieces) == REPLY
    assert chat_server.attempts["loading-2"] == 3


@pytest.mark.parametrize("retry_after", [0.3, 1.6])
async def test_429_waits_for_retry_after(chat_server: ChatServer, retry_after: float) -> None:
    # Neither value equals the 1 s first backoff used when a server gives no hint.
    chat_server.retry_after = str(retry_after)
    pieces = await collect(backend(chat_server, "ratelimit-1"))
    assert "".join(pieces) == REPLY
    first, second = chat_server.request_times
    assert retry_after - 0.05 <= second - first <= retry_after + 0.6  # the server's hint, not a fixed backoff


async def test_throttling_that_never_ends_gives_a_readable_error(chat_server: ChatServer) -> None:
    with pytest.raises(ModelUnavailableError, match="busy or still loading"):
        await collect(backend(chat_server, "ratelimit-99", max_retries=2))
    assert chat_server.attempts["ratelimit-99"] == 3


async def test_stream_cut_keeps_partial_text_and_is_not_retried(chat_server: ChatServer) -> None:
    received: list[str] = []
    with pytest.raises(GenerationInterrupted) as caught:
        async with aclosing(backend(chat_server, "cut").stream(QUESTION, GenerationParams())) as pieces:
            async for piece in pieces:
                received.append(piece)
    assert caught.value.partial_text == "".join(received) == "Paris is the"
    assert chat_server.attempts["cut"] == 1


async def test_silence_between_tokens_times_out(chat_server: ChatServer) -> None:
    b = backend(chat_server, "stall", timeout_seconds=0.5)
    with pytest.raises(GenerationInterrupted) as caught:
        await asyncio.wait_for(collect(b), timeout=10)
    assert caught.value.partial_text == "Paris"


async def test_bad_token_says_so(chat_server: ChatServer) -> None:
    with pytest.raises(ModelUnavailableError, match="HF_TOKEN") as caught:
        await collect(backend(chat_server, "unauthorized"))
    assert "hf_test_token" not in caught.value.user_message
    assert chat_server.attempts["unauthorized"] == 1


async def test_unknown_remote_model(chat_server: ChatServer) -> None:
    with pytest.raises(UnknownModelError, match="missing"):
        await collect(backend(chat_server, "missing"))


async def test_unreachable_base_url_fails_fast_and_clearly() -> None:
    b = HFApiBackend("ok", ApiConfig(base_url="http://127.0.0.1:9", max_retries=1, retry_max_wait_seconds=0.1))
    with pytest.raises(ModelUnavailableError, match="Could not reach"):
        await asyncio.wait_for(collect(b), timeout=10)


async def test_closing_the_stream_closes_the_connection(chat_server: ChatServer) -> None:
    chat_server.chunk_delay = 0.05
    async with aclosing(backend(chat_server).stream(QUESTION, GenerationParams())) as pieces:
        async for _ in pieces:
            break
    for _ in range(50):
        if chat_server.disconnects:
            break
        await asyncio.sleep(0.02)
    assert chat_server.disconnects == 1


@pytest.mark.parametrize(
    "messages, reason",
    [
        ([], "nothing to answer"),
        ([{"role": "user", "content": "   "}], "no text"),
        ([{"role": "wizard", "content": "hi"}], "unknown role"),
        ([{"role": "system", "content": "Be brief."}], "only a system prompt"),
    ],
)
async def test_bad_messages_are_refused_before_any_request(chat_server: ChatServer, messages, reason) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match=reason):
        await collect(backend(chat_server), messages)
    assert chat_server.requests == []  # refused by the backend itself: nothing went over the wire


async def test_an_image_reaches_a_vision_model_as_an_image_part(chat_server: ChatServer, database) -> None:  # type: ignore[no-untyped-def]
    from bot.domain import Asker, Extras, Place
    from bot.generation.registry import ModelRegistry
    from bot.services.conversation import ConversationService

    registry = ModelRegistry("ok")
    registry.register(HFApiBackend("ok", ApiConfig(base_url=chat_server.url, token="hf_t"), takes_images=True))
    service = ConversationService(database, registry)
    picture = "data:image/png;base64,iVBORw0KGgo="
    reply = await service.start(Place(1, 2), Asker(7, "ann"), "what is this?", extras=Extras(images=[picture]))
    async with aclosing(reply.stream()) as pieces:
        assert "".join([p async for p in pieces]) == REPLY
    sent = chat_server.requests[-1]["messages"][-1]
    assert sent == {
        "role": "user",
        "content": [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": picture}}],
    }
