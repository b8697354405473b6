"""Weight-only quantized forms of a local model for decoding on a CPU (`LOCAL_DTYPE=int4` / `int8`).

Decoding one token reads every weight once, so on a CPU it is bound by memory traffic and by how well the matmul
kernel copes with a handful of rows. Measured on the embedded model (bench/local_dtype.py): float32 and plain
bfloat16 run at about the same speed for one stream (bfloat16's kernels are slow for a single row), while 4-bit
weights with torch's int4 kernel, plus the output head prepacked for oneDNN in bfloat16, run about twice as fast for
one stream and for eight.

Only the matmuls change: their inputs are rounded to bfloat16 on the way in and the results come back in the
model's float32, so norms, attention, the residual stream and sampling stay float32.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

log = logging.getLogger(__name__)

GROUP = 32  # int4: one scale and zero per 32 inputs, the layout of GGUF's Q4_1 blocks
# Above this many rows (a prompt being read) torch's int4 kernel loses to oneDNN's bfloat16 one: measured on the
# embedded model's layers, 16 rows 27 ms against 19, 40 rows 56 against 25, 200 rows 253 against 52; at 8 rows 16 ms
# against 18, at 1 row 8 against 17.
INT4_MAX_ROWS = 12


def int4_kernels() -> bool:
    """torch's CPU int4 kernels (torch 2.6 and newer)."""
    aten = torch.ops.aten
    return hasattr(aten, "_weight_int4pack_mm_for_cpu") and hasattr(aten, "_convert_weight_to_int4pack_for_cpu")


def int4_supported() -> bool:
    """int4 runs well here: its kernels, and oneDNN bfloat16 for prompts and the head."""
    return int4_kernels() and bf16_prepack_supported()


def bf16_prepack_supported() -> bool:
    return bool(torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(-1, x.shape[-1]).to(torch.bfloat16)


def _unflat(y: torch.Tensor, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    out = y.to(x.dtype).reshape(*x.shape[:-1], y.shape[-1])
    return out if bias is None else out + bias


class Int4Linear(nn.Module):
    """4-bit weights in groups of 32 inputs, each group `(q - 8) * scale + zero` with q in 0..15.

    Built from float weights by each group's min and max. For a model whose weights were Q4_1 (every group stored as
    `d * q + m`, its min and max among the values), this gives back the file's own 4-bit values: the embedded model
    computes with the weights it shipped with, only its scales rounded to bfloat16.
    """

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        rows, inputs = weight.shape
        groups = weight.reshape(rows, inputs // GROUP, GROUP)
        low, high = groups.amin(dim=-1), groups.amax(dim=-1)
        scale = ((high - low) / 15).clamp(min=torch.finfo(torch.float32).tiny)
        q = ((groups - low[..., None]) / scale[..., None]).round().clamp(0, 15).to(torch.int32).reshape(rows, inputs)
        self.register_buffer("packed", torch.ops.aten._convert_weight_to_int4pack_for_cpu(q, 1))
        zeros = low + 8 * scale
        scales_zeros = torch.stack([scale, zeros], dim=-1).transpose(0, 1).contiguous()  # (groups, rows, 2)
        self.register_buffer("scales_zeros", scales_zeros.bfloat16())
        self.bias = linear.bias
        self.prompts = _bf16_or_float(linear)  # for prompts: a bfloat16 copy, half the size of float32

    @staticmethod
    def fits(linear: nn.Linear) -> bool:
        # The kernel's packing wants outputs in multiples of 16; groups want inputs in multiples of 32.
        return linear.out_features % 16 == 0 and linear.in_features % GROUP == 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.numel() > INT4_MAX_ROWS * x.shape[-1]:
            return self.prompts(x)
        y = torch.ops.aten._weight_int4pack_mm_for_cpu(_flat(x), self.packed, GROUP, self.scales_zeros)
        return _unflat(y, x, self.bias)


class Int8Linear(nn.Module):
    """8-bit weights with one scale per output row (symmetric)."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scale = (weight.abs().amax(dim=1) / 127).clamp(min=torch.finfo(torch.float32).tiny)
        self.register_buffer("weight_q", (weight / scale[:, None]).round().clamp(-127, 127).to(torch.int8))
        self.register_buffer("scales", scale.bfloat16())
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _unflat(torch.ops.aten._weight_int8pack_mm(_flat(x), self.weight_q, self.scales), x, self.bias)


class PrepackedBf16Linear(nn.Module):
    """bfloat16 weights laid out once for oneDNN: the plain bfloat16 matmul re-lays them out on every call, which
    made a single-row step slower than float32. Used for the output head, whose weights are not 4-bit in the file."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.register_buffer("packed", torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach().bfloat16(), 1))
        self.bias = linear.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.ops.mkldnn._linear_pointwise(_flat(x), self.packed, None, "none", [], "")
        return _unflat(y, x, self.bias)


def _bf16_or_float(linear: nn.Linear) -> nn.Module:
    """The prepacked bfloat16 layer where oneDNN has bfloat16 on this CPU (AVX-512 and newer), else the float one."""
    return PrepackedBf16Linear(linear) if bf16_prepack_supported() else linear


def quantize(model: Any, form: str) -> int:
    """Swap the model's linear layers for `form` in place; returns how many were swapped. CPU only."""
    head = model.get_output_embeddings()
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if not isinstance(child, nn.Linear):
                continue
            replacement: nn.Module | None = None
            if child is head:
                # The head often shares its weights with the input embeddings: the embeddings keep the float copy.
                replacement = _bf16_or_float(child) if form == "int4" else Int8Linear(child)
            elif form == "int8":
                replacement = Int8Linear(child)
            elif Int4Linear.fits(child):  # else it stays float32
                replacement = Int4Linear(child)
            if replacement is not None and replacement is not child:
                setattr(parent, name, replacement)
                swapped += 1
    log.info("Quantized %d linear layers to %s", swapped, form)
    return swapped
