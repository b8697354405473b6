"""The seed API (`HF_gen_response`): HuggingFaceGenerator and the module-level functions."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest

from bot import HF_gen_response as seed
from bot.domain import Persona
from bot.errors import InvalidInputError, UnknownModelError
from bot.generation import facade
from bot.settings import Settings
from tests.conftest import MODEL_CACHE
from tests.standins.chat_server import REPLY, ChatServer
from tests.standins.scripted import EchoBackend

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
# The product always sends a persona's system prompt; a 135M model's bare-prompt answers flip with the last bit of
# arithmetic (float32 and int4 each get 8 of the 12 quiz questions bare, 11-12 with a system prompt).
ASKED = [{"role": "system", "content": "You are a helpful assistant. Answer clearly and concisely."}, *QUESTION]


def make_generator(**settings: object) -> facade.HuggingFaceGenerator:
    return facade.HuggingFaceGenerator(Settings(_env_file=None, model_cache_dir=MODEL_CACHE, **settings))  # type: ignore[call-arg]


@pytest.fixture
def installed() -> Iterator[facade.HuggingFaceGenerator]:
    generator = make_generator()
    generator.registry.register(EchoBackend())
    facade.use_generator(generator)
    yield generator
    facade.use_generator(None)
    facade.set_speech_hook(None)
    generator.close()


def test_process_response_takes_both_shapes() -> None:
    assert seed.process_response("  whole answer \n") == "whole answer"
    assert seed.process_response(iter(["a", "b", " c "])) == "ab c"


async def test_api_model_streamed_and_whole(chat_server: ChatServer) -> None:
    generator = make_generator(api_models=["ok"], hf_base_url=chat_server.url, hf_token="hf_x")
    pieces = await asyncio.to_thread(lambda: list(generator.generate_response(QUESTION, model="ok", stream=True)))
    whole = await asyncio.to_thread(generator.generate_response, QUESTION, "ok", 32, 0.0, False)
    assert "".join(pieces) == whole == REPLY and len(pieces) > 3
    assert chat_server.requests[-1]["max_tokens"] == 32
    generator.close()


async def test_local_model_through_the_facade() -> None:
    generator = make_generator()
    assert generator._convert_messages_to_prompt(QUESTION).endswith("Assistant:")  # nothing loaded: fallback
    await generator.load_model("smollm2")  # inside a loop: an awaitable, loaded in a thread
    assert "<|im_start|>user" in generator._convert_messages_to_prompt(QUESTION)
    answer = await asyncio.to_thread(generator.generate_response, ASKED, None, 20, 0.0, False)
    assert isinstance(answer, str) and "Paris" in answer
    pieces = [p async for p in generator.astream(ASKED)]
    assert "Paris" in "".join(pieces) and len(pieces) > 2
    generator.close()


def test_load_model_from_sync_code_blocks_until_loaded() -> None:
    generator = make_generator()
    assert generator.load_model("smollm2") is None
    assert not generator.registry.needs_loading("smollm2")
    with pytest.raises(UnknownModelError):
        generator.load_model("no-such-model")
    generator.close()


def test_set_and_get_model(installed: facade.HuggingFaceGenerator) -> None:
    assert seed.get_hf_model() == "smollm2"
    seed.set_hf_model("echo")
    assert seed.get_hf_model() == "echo"
    with pytest.raises(UnknownModelError, match="Available: smollm2, echo"):
        seed.set_hf_model("gpt-17")
    assert seed.get_hf_model() == "echo"
    with pytest.raises(InvalidInputError):
        list(seed.generate_response([], model="echo"))  # type: ignore[arg-type]


async def test_async_generate_response_uses_persona_and_speaks(installed: facade.HuggingFaceGenerator) -> None:
    spoken: list[tuple[str, str]] = []

    async def speak(text: str, persona: Persona) -> None:
        spoken.append((text, persona.name))

    seed.set_speech_hook(speak)
    persona = {"name": "pirate", "system_prompt": "Talk like a pirate.", "temperature": 0.9, "max_tokens": 77}
    messages = [{"role": "system", "content": "ignored"}, *QUESTION]
    text = await seed.async_generate_response(persona, messages, 0.4, top_p=0.8, top_k=12, speak=True, model="echo")
    assert json.loads(text) == [{"role": "system", "content": "Talk like a pirate."}, *QUESTION]
    backend = installed.registry.backend("echo")
    assert isinstance(backend, EchoBackend)
    params = backend.calls[-1][1]
    assert (params.temperature, params.top_p, params.top_k, params.max_tokens) == (0.4, 0.8, 12, 77)
    assert spoken == [(text, "pirate")]


async def test_the_seed_routes_through_its_documented_methods_with_its_defaults(chat_server: ChatServer) -> None:
    generator = make_generator(api_models=["ok"], hf_base_url=chat_server.url, hf_token="hf_x", max_new_tokens=300)
    whole = await asyncio.to_thread(generator._generate_api_response, QUESTION, "ok", 40, 0.0, False)
    assert whole == REPLY and chat_server.requests[-1]["max_tokens"] == 40
    streamed = await asyncio.to_thread(lambda: "".join(generator.generate_response(QUESTION, model="ok")))
    assert streamed == REPLY
    assert chat_server.requests[-1]["max_tokens"] == 300  # the seed's 4096, capped by MAX_NEW_TOKENS
    assert facade.SEED_MAX_TOKENS == 4096
    generator.close()


async def test_a_seed_caller_never_sees_a_think_block_or_an_echoed_role() -> None:
    from tests.standins.scripted import ScriptedBackend

    generator = make_generator()
    generator.registry.register(ScriptedBackend(name="thinker", text="<think>Let me see. </think>assistant: Paris."))
    answer = await asyncio.to_thread(generator.generate_response, QUESTION, "thinker", 50, 0.0, False)
    assert answer == "Paris."
    generator.close()


async def test_inside_the_bot_the_seed_api_is_a_view_over_the_running_registry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.app import Services
    from tests.standins.scripted import ScriptedBackend

    settings = Settings(_env_file=None, database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")  # type: ignore[call-arg]
    async with await Services.open(settings) as services:
        services.registry.register(ScriptedBackend(name="shared"))
        seed_generator = facade.default_generator()
        assert seed_generator.registry is services.registry  # no second registry, so no second copy of a model
        text = await seed.async_generate_response("Be brief.", QUESTION, model="shared")
        assert text == "Hello there, friend."
    assert facade._generator is None  # closing the bot uninstalls it
