"""An OpenAI-compatible chat-completions server speaking the SSE stream as TGI does.

The requested `model` picks a scenario, so one server covers every behaviour the tests need:
  ok            streams the words of REPLY, one per chunk
  echo          streams back the last user message (shows what the client sent)
  loading-N     answers 503 "model is loading" N times, then streams
  ratelimit-N   answers 429 with Retry-After N times, then streams
  cut           streams a few chunks, then drops the connection
  stall         streams one chunk, then goes silent
  unauthorized  answers 401
  missing       answers 404
  think         streams a `<think>` block (cut mid-tag across chunks), then the words of REPLY
  reasoning     streams THOUGHT as `reasoning_content` deltas, then the words of REPLY
  length        streams the words of REPLY, then ends with finish_reason "length" (the max_tokens cut)
  tools         follows `tool_plan`: round N (N tool rounds already in the request) streams the calls planned for
                it as `tool_calls` deltas (arguments cut across chunks), ending with finish_reason "tool_calls";
                past the plan, or offered no tools, it answers "Tool said: " and the last round's tool messages
                (ending with finish_reason "length" while `tool_cuts` > 0, one less each time: a cut answer)
Every other stream ends with finish_reason "stop".
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

REPLY = "Paris is the capital of France and its largest city."
THOUGHT = "The user asks about France. Its capital is Paris, so I say so."


@dataclass
class ChatServer:
    requests: list[dict[str, Any]] = field(default_factory=list)
    request_times: list[float] = field(default_factory=list)
    authorizations: list[str] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    disconnects: int = 0
    chunk_delay: float = 0.0
    retry_after: str = "0"
    tool_plan: list[list[tuple[str, str]]] = field(default_factory=list)  # per round: (tool name, arguments JSON)
    tool_cuts: int = 0  # this many of the `tools` scenario's answers end cut by the length limit
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> ChatServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.authorizations.append(request.headers.get("Authorization", ""))
        self.request_times.append(time.monotonic())
        model = body.get("model", "ok")
        self.attempts[model] += 1
        kind, _, count = model.partition("-")
        failures_left = int(count or 0) >= self.attempts[model]
        if kind == "loading" and failures_left:
            return web.json_response({"error": "Model is loading", "estimated_time": 0.05}, status=503)
        if kind == "ratelimit" and failures_left:
            return web.json_response(
                {"error": "Too many requests"}, status=429, headers={"Retry-After": self.retry_after}
            )
        if kind == "unauthorized":
            return web.json_response({"error": "Invalid credentials"}, status=401)
        if kind == "missing":
            return web.json_response({"error": "Model not found"}, status=404)
        if kind == "tools":
            return await self._tools(request, model, body)
        words = _words(body["messages"][-1]["content"]) if kind == "echo" else _words(REPLY)
        if kind == "think":
            block = f"<think>{THOUGHT}</think>\n\n"
            words = [block[i : i + 5] for i in range(0, len(block), 5)] + words  # tags cut across chunks
        return await self._stream(request, model, words, kind)

    async def _stream(self, request: web.Request, model: str, words: list[str], kind: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        try:
            if kind == "reasoning":
                for thought in _words(THOUGHT):
                    await response.write(_chunk(model, "", reasoning=thought))
                    if self.chunk_delay:
                        await asyncio.sleep(self.chunk_delay)
            for index, word in enumerate(words):
                if kind == "cut" and index == 3:
                    assert request.transport is not None
                    request.transport.close()  # mid-stream connection loss
                    return response
                if kind == "stall" and index == 1:
                    await asyncio.sleep(3600)
                await response.write(_chunk(model, word))
                if self.chunk_delay:
                    await asyncio.sleep(self.chunk_delay)
            await response.write(_chunk(model, "", finish="length" if kind == "length" else "stop"))
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.disconnects += 1
            raise
        return response

    async def _tools(self, request: web.Request, model: str, body: dict[str, Any]) -> web.StreamResponse:
        messages = body["messages"]
        done = sum(1 for m in messages if m.get("tool_calls"))
        if body.get("tools") and done < len(self.tool_plan):
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for index, (name, arguments) in enumerate(self.tool_plan[done]):
                call_id = f"call_{done}_{index}"
                await response.write(_tool_chunk(model, index, arguments[:5], call_id, name))
                for start in range(5, len(arguments), 5):
                    await response.write(_tool_chunk(model, index, arguments[start : start + 5]))
                    if self.chunk_delay:
                        await asyncio.sleep(self.chunk_delay)
            await response.write(_chunk(model, "", finish="tool_calls"))
            await response.write(b"data: [DONE]\n\n")
            return response
        last_round: list[str] = []
        for message in reversed(messages):
            if message.get("role") != "tool":
                break
            last_round.insert(0, message["content"])
        cut = self.tool_cuts > 0
        self.tool_cuts -= cut
        words = _words("Tool said: " + " | ".join(last_round))
        return await self._stream(request, model, words, "length" if cut else "tools")


def _tool_chunk(model: str, index: int, arguments: str, call_id: str | None = None, name: str | None = None) -> bytes:
    call: dict[str, Any] = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        call |= {"id": call_id, "type": "function"}
        call["function"]["name"] = name
    return _sse(model, {"index": 0, "delta": {"role": "assistant", "tool_calls": [call]}, "finish_reason": None})


def _words(text: str) -> list[str]:
    parts = text.split(" ")
    return [parts[0]] + [" " + p for p in parts[1:]]


def _chunk(model: str, content: str, finish: str | None = None, reasoning: str | None = None) -> bytes:
    delta: dict[str, Any] = {"role": "assistant", "content": None if reasoning else content}
    if reasoning:
        delta["reasoning_content"] = reasoning
    return _sse(model, {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish})


def _sse(model: str, choice: dict[str, Any]) -> bytes:
    """One server-sent event of a streamed chat completion, as TGI and OpenAI-compatible servers frame it."""
    payload = {
        "id": "chatcmpl-standin",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "standin",
        "choices": [choice],
    }
    return f"data: {json.dumps(payload)}\n\n".encode()
