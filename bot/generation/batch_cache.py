"""KV-cache surgery for continuous batching: rows joining (left-padded), leaving, and dropping dead padding.

Works on transformers' `DynamicCache`, whose layers hold `keys`/`values` shaped (batch, heads, length, head_dim).
"""

from __future__ import annotations

from typing import Any

import torch


def _pad_left(tensor: torch.Tensor, length: int) -> torch.Tensor:
    missing = length - tensor.shape[-2]
    if missing <= 0:
        return tensor
    pad = tensor.new_zeros((*tensor.shape[:-2], missing, tensor.shape[-1]))
    return torch.cat([pad, tensor], dim=-2)


def merge_rows(batch: Any, joining: Any) -> None:
    """Append `joining`'s rows to `batch` in place, left-padding whichever is shorter."""
    for ours, theirs in zip(batch.layers, joining.layers, strict=True):
        length = max(ours.keys.shape[-2], theirs.keys.shape[-2])
        ours.keys = torch.cat([_pad_left(ours.keys, length), _pad_left(theirs.keys, length)], dim=0)
        ours.values = torch.cat([_pad_left(ours.values, length), _pad_left(theirs.values, length)], dim=0)


def keep_rows(cache: Any, rows: torch.Tensor) -> None:
    for layer in cache.layers:
        layer.keys = layer.keys.index_select(0, rows)
        layer.values = layer.values.index_select(0, rows)


def drop_left(cache: Any, columns: int) -> None:
    """Remove `columns` positions of padding that no remaining row uses."""
    if columns <= 0:
        return
    for layer in cache.layers:
        layer.keys = layer.keys[..., columns:, :]
        layer.values = layer.values[..., columns:, :]


def pad_mask_left(mask: torch.Tensor, length: int) -> torch.Tensor:
    missing = length - mask.shape[1]
    if missing <= 0:
        return mask
    return torch.cat([mask.new_zeros((mask.shape[0], missing)), mask], dim=1)
