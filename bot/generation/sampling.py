"""Choosing the next token for one request from its logits, with that request's own parameters."""

from __future__ import annotations

from typing import Any

import torch

from bot.domain import GenerationParams

DEFAULT_TOP_P = 0.9
DEFAULT_TOP_K = 50
SAMPLING_REPETITION_PENALTY = 1.1  # only when sampling: greedy output stays the model's plain argmax


def next_token(logits: torch.Tensor, params: GenerationParams, seen: torch.Tensor, generator: Any = None) -> int:
    """`logits` is one row (vocabulary,); `seen` holds the ids so far (for the repetition penalty)."""
    if params.greedy:
        return int(torch.argmax(logits).item())
    scores = logits.float().clone()
    picked = scores.gather(0, seen)
    scores.scatter_(
        0, seen, torch.where(picked > 0, picked / SAMPLING_REPETITION_PENALTY, picked * SAMPLING_REPETITION_PENALTY)
    )
    scores /= params.temperature
    top_k = params.top_k if params.top_k is not None else DEFAULT_TOP_K
    top_p = params.top_p if params.top_p is not None else DEFAULT_TOP_P
    if 0 < top_k < scores.numel():
        # Only the top k can be drawn: work on those k (sorted by topk) instead of sorting the whole vocabulary,
        # which costs milliseconds per row on a 49k vocabulary, every decoding step.
        candidates, ids = torch.topk(scores, top_k)
    else:
        candidates, ids = torch.sort(scores, descending=True)
    if top_p < 1.0:
        probabilities = torch.softmax(candidates, dim=-1)
        drop = probabilities.cumsum(dim=-1) - probabilities > top_p  # keep the token that crosses top_p
        candidates = candidates.masked_fill(drop, -float("inf"))
    choice = torch.multinomial(torch.softmax(candidates, dim=-1), 1, generator=generator)
    return int(ids[choice].item())
