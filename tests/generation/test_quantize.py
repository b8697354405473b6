"""LOCAL_DTYPE's weight-only forms (int4, int8) and the thread that owns a local model."""

from __future__ import annotations

import asyncio
import logging
import threading
from contextlib import aclosing

import pytest
import torch
from torch import nn

from bot.domain import ChatMessage, GenerationParams
from bot.errors import InvalidInputError
from bot.generation.local import LocalBackend, LocalModelPool
from bot.generation.local_loader import pick_dtype
from bot.generation.quantize import (
    Int4Linear,
    Int8Linear,
    PrepackedBf16Linear,
    bf16_prepack_supported,
    int4_supported,
)
from tests.conftest import MODEL_CACHE

ASKED: list[ChatMessage] = [
    {"role": "system", "content": "You are a helpful assistant. Answer clearly and concisely."},
    {"role": "user", "content": "What is the capital of France?"},
]


def q4_1_linear(rows: int, inputs: int, seed: int = 3) -> nn.Linear:
    """A layer whose weights lie on a Q4_1 grid, as the embedded model's do: per 32 inputs, d * q + m, q in 0..15,
    with each group's smallest value at q = 0 and its largest at q = 15 (how llama.cpp quantizes)."""
    gen = torch.Generator().manual_seed(seed)
    groups = inputs // 32
    d = (torch.rand(rows, groups, 1, generator=gen) * 0.02 + 0.005).half().float()
    m = (torch.randn(rows, groups, 1, generator=gen) * 0.05).half().float()
    q = torch.randint(0, 16, (rows, groups, 32), generator=gen)
    q[..., 0], q[..., 1] = 0, 15
    layer = nn.Linear(inputs, rows, bias=False)
    layer.weight.data = (d * q + m).reshape(rows, inputs)
    return layer


@pytest.mark.parametrize("rows", [1, 5, 40])  # one answer decoding, a batch, a prompt being read
def test_int4_layer_computes_with_the_q4_1_weights(rows: int) -> None:
    layer = q4_1_linear(64, 256)
    x = torch.randn(rows, 256, generator=torch.Generator().manual_seed(rows))
    expected = layer(x)
    with torch.inference_mode():
        got = Int4Linear(layer)(x)
    # Only bfloat16 rounding of the inputs and of the scales: well under 1 % of the outputs' size.
    assert got.dtype == torch.float32 and got.shape == expected.shape
    assert (got - expected).abs().max() < 0.01 * expected.abs().max()


def test_int8_and_prepacked_layers_match_float32() -> None:
    layer = q4_1_linear(48, 128)
    x = torch.randn(3, 128, generator=torch.Generator().manual_seed(9))
    expected = layer(x)
    with torch.inference_mode():
        forms = [Int8Linear(layer)] + ([PrepackedBf16Linear(layer)] if bf16_prepack_supported() else [])
        for quantized in forms:
            assert (quantized(x) - expected).abs().max() < 0.02 * expected.abs().max()


def test_auto_picks_int4_only_for_the_embedded_model_on_a_cpu() -> None:
    # This project's machines have AVX-512 with bfloat16; elsewhere int4 would lose its fast prompt path.
    assert pick_dtype("auto", "cpu", "smollm2") == ("int4" if int4_supported() else "float32")
    assert pick_dtype("auto", "cpu", "HuggingFaceTB/SmolLM2-360M-Instruct") == "float32"  # int4 would round it
    assert pick_dtype("int8", "cpu", "HuggingFaceTB/SmolLM2-360M-Instruct") == "int8"  # asked for: given
    with pytest.raises(InvalidInputError, match="LOCAL_DTYPE=int4 runs on a CPU only"):
        pick_dtype("int4", "cuda:0", "smollm2")
    with pytest.raises(InvalidInputError, match="LOCAL_DTYPE must be one of auto, float32, bfloat16, float16, int4"):
        pick_dtype("int3", "cpu")


async def answer(pool: LocalModelPool, messages: list[ChatMessage], tokens: int = 24) -> str:
    backend = LocalBackend("smollm2", pool)
    async with aclosing(backend.stream(messages, GenerationParams(max_tokens=tokens))) as pieces:
        return "".join([p async for p in pieces if isinstance(p, str)])


@pytest.mark.parametrize("form", ["int4", "int8"])
async def test_embedded_model_in_a_quantized_form_answers(form: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.generation")
    pool = LocalModelPool(cache_dir=MODEL_CACHE, dtype=form)
    try:
        loaded = await pool.get("smollm2")
        layers = [m for m in loaded.model.modules() if isinstance(m, Int4Linear | Int8Linear)]
        assert len(layers) == (210 if form == "int4" else 211)  # 7 per layer x 30 (+ the head for int8)
        if bf16_prepack_supported():  # else prompts and the head keep float32 layers
            assert not any(type(m) is nn.Linear for m in loaded.model.modules())
        assert not file_backed(loaded.model)  # the float32 file's pages can go: nothing quantized points into them
        steps: list[str] = []
        loaded.model.register_forward_pre_hook(lambda *_: steps.append(threading.current_thread().name))
        assert "Paris" in await answer(pool, ASKED)
    finally:
        pool.close()
    # Loading and every step ran on the scheduler's thread: one OpenMP team in the process, not one per thread.
    (loading,) = [r for r in caplog.records if r.getMessage().startswith("Loaded local model")]
    assert f"as {form}" in loading.getMessage()
    assert loading.threadName == "local-batch" and set(steps) == {"local-batch"} and len(steps) > 5


def file_backed(model: nn.Module) -> list[str]:
    """Names of the model's tensors whose memory lies in a mapping of a safetensors file."""
    spans = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            if line.rstrip().endswith(".safetensors"):
                low, high = line.split()[0].split("-")
                spans.append((int(low, 16), int(high, 16)))
    named = [*model.named_parameters(), *model.named_buffers()]
    return [
        name
        for name, tensor in named
        if tensor.layout == torch.strided
        and not tensor.is_mkldnn
        and any(low <= tensor.data_ptr() < high for low, high in spans)
    ]


async def test_a_load_whose_asker_left_does_not_leave_a_model_running() -> None:
    before = sum(t.name == "local-batch" for t in threading.enumerate())
    pool = LocalModelPool(cache_dir=MODEL_CACHE, dtype="float32")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(pool.get("smollm2"), 0.05)
    assert not pool.is_resident("smollm2")
    for _ in range(300):  # the load finishes in its thread, then that thread ends
        if sum(t.name == "local-batch" for t in threading.enumerate()) == before:
            break
        await asyncio.sleep(0.1)
    assert sum(t.name == "local-batch" for t in threading.enumerate()) == before
    assert "Paris" in await answer(pool, ASKED)  # and the next asker loads it again
    pool.close()


def test_int4_without_bfloat16_in_onednn_reads_prompts_in_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    # CPUs before AVX-512 have no oneDNN bfloat16: prompts then go through the float32 layer, still correct.
    monkeypatch.setattr("bot.generation.quantize.bf16_prepack_supported", lambda: False)
    layer = q4_1_linear(32, 128)
    x = torch.randn(40, 128, generator=torch.Generator().manual_seed(4))
    with torch.inference_mode():
        quantized = Int4Linear(layer)
        assert quantized.prompts is layer
        assert torch.equal(quantized(x), layer(x))
        assert (quantized(x[:2]) - layer(x[:2])).abs().max() < 0.01 * layer(x[:2]).abs().max()


def test_int4_asked_for_on_a_torch_without_its_kernels_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.generation.quantize.int4_kernels", lambda: False)
    with pytest.raises(InvalidInputError, match=r"LOCAL_DTYPE=int4 needs torch 2\.6 or newer"):
        pick_dtype("int4", "cpu", "smollm2")
    assert pick_dtype("auto", "cpu", "smollm2") == "float32"
