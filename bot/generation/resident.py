"""Giving back the memory a quantized model no longer needs.

transformers loads the converted safetensors memory-mapped; the tensors quantization leaves alone (embeddings,
norms) still point into that mapping, so all of the file's float32 pages stayed resident next to the 4-bit copy
(measured: 513 MB of a 1.2 GB process). Copying the survivors onto the heap lets the mapping close; `malloc_trim`
then hands the freed float32 heap back to the system instead of keeping it in glibc's arenas.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
from typing import Any

log = logging.getLogger(__name__)


def own_weights(model: Any) -> None:
    """Give every parameter and buffer its own memory, so nothing keeps the loaded file mapped."""
    import torch

    done: set[int] = set()
    for tensor in [*model.parameters(), *model.buffers()]:
        # Prepacked oneDNN weights have no plain storage (and were built on the heap anyway).
        if id(tensor) in done or tensor.layout != torch.strided or tensor.is_mkldnn:
            continue
        done.add(id(tensor))
        tensor.data = tensor.data.clone()


def trim_heap() -> None:
    """Collect garbage, then return free heap pages to the system (glibc only; elsewhere a no-op)."""
    gc.collect()
    path = ctypes.util.find_library("c")
    if path is None:
        return
    libc = ctypes.CDLL(path)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
