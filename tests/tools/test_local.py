"""Local models and tools: a template that takes tools gets them and its `<tool_call>` blocks become calls (never
shown to the reader); the embedded SmolLM2-135M's template takes none, so it answers without tools."""

from __future__ import annotations

import copy
import json

from bot.domain import ChatMessage
from bot.generation.local import LocalBackend, LocalModelPool
from bot.generation.prompt import render_prompt, takes_tools
from bot.generation.tool_calls import TaggedCallFilter
from bot.tools.builtins import Calculate

# A template in the shape Qwen2.5's uses for tools (its system block lists them as JSON).
TOOL_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nTools:\n{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}<|im_end|>\n"
    "{% endif %}{% for message in messages %}<|im_start|>{{ message.role }}\n{% if message.tool_calls %}"
    "{% for call in message.tool_calls %}<tool_call>{{ call.function | tojson }}</tool_call>{% endfor %}"
    "{% else %}{{ message.content }}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_a_tool_call_is_held_back_from_the_reader() -> None:
    calls = TaggedCallFilter()
    pieces = [
        "Let me ",
        "check. <tool",
        '_call>{"name": "calculate", ',
        '"arguments": {"expression": "2+2"}}',
        "</tool_call>",
    ]
    shown = "".join(calls.feed(p) for p in pieces) + calls.flush()
    assert shown == "Let me check. "
    [call] = calls.calls()
    assert (call.name, json.loads(call.arguments)) == ("calculate", {"expression": "2+2"})


def test_text_that_only_looks_like_a_tag_is_shown() -> None:
    calls = TaggedCallFilter()
    shown = "".join(calls.feed(p) for p in ["a <to", "day> b <"]) + calls.flush()
    assert shown == "a <today> b <" and calls.calls() == ()


def test_a_malformed_tagged_call_becomes_a_call_the_model_is_told_about() -> None:
    calls = TaggedCallFilter()
    calls.feed("<tool_call>{not json</tool_call>")
    [call] = calls.calls()
    assert call.name == "" and call.arguments == "{not json"


async def test_the_embedded_model_takes_no_tools(smollm2_pool: LocalModelPool) -> None:
    backend = LocalBackend("smollm2", smollm2_pool)
    assert await backend.tool_support() is False


async def test_a_template_that_takes_tools_renders_them_and_the_tool_round(smollm2_pool: LocalModelPool) -> None:
    tokenizer = copy.copy((await smollm2_pool.get("smollm2")).tokenizer)
    tokenizer.chat_template = TOOL_TEMPLATE
    assert takes_tools(tokenizer)
    messages: list[ChatMessage] = [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "calculate", "arguments": '{"expression": "2+2"}'}}
        ]},
        {"role": "tool", "tool_call_id": "c1", "name": "calculate", "content": "2+2 = 4"},
    ]  # fmt: skip
    prompt = render_prompt(tokenizer, messages, [Calculate.spec.schema()])
    assert '"name": "calculate"' in prompt.split("<|im_end|>")[0]  # the tools, in the system block
    assert '<tool_call>{"name": "calculate", "arguments": {"expression": "2+2"}}</tool_call>' in prompt
    assert prompt.endswith("<|im_start|>tool\n2+2 = 4<|im_end|>\n<|im_start|>assistant\n")
