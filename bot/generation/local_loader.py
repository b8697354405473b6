"""Loading a local model and its tokenizer with transformers (blocking: call it in a thread)."""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.domain import GenerationParams
from bot.errors import InvalidInputError, ModelUnavailableError
from bot.generation.embedded import EMBEDDED_ALIAS, EMBEDDED_SAMPLING, GGUF_FILE, embedded_model_path

log = logging.getLogger(__name__)

QUANTIZED = ("int4", "int8")  # weight-only forms for a CPU (bot.generation.quantize)
DTYPES = ("auto", "float32", "bfloat16", "float16", *QUANTIZED)


@dataclass(slots=True)
class LocalModel:
    name: str
    model: Any
    tokenizer: Any
    context_window: int
    device: str
    sampling: GenerationParams = field(default_factory=GenerationParams)


def pick_device(preferred: str | None = None) -> str:
    import torch

    if preferred:
        return preferred
    return "cuda" if torch.cuda.is_available() else "cpu"


def pick_dtype(requested: str, device: str, name: str | None = None) -> str:
    """`auto`: the fastest form that keeps the answers. On a GPU, bfloat16 where supported (else float16). On a CPU,
    int4 for the embedded model, whose weights were 4-bit in the file to begin with (bench/local_dtype.py: about 2x
    float32 for one stream and for eight, same quiz score); float32 for other models, since int4/int8 round their
    weights (opt in, and check the quiz with the bench). Plain bfloat16 on a CPU helps only batches."""
    import torch

    if requested not in DTYPES:
        raise InvalidInputError(f"LOCAL_DTYPE must be one of {', '.join(DTYPES)}, not `{requested}`.")
    on_gpu = device.startswith("cuda")
    if requested in QUANTIZED and on_gpu:
        raise InvalidInputError(f"LOCAL_DTYPE={requested} runs on a CPU only; use auto or bfloat16 on a GPU.")
    if requested == "int4":
        from bot.generation.quantize import int4_kernels

        if not int4_kernels():
            raise InvalidInputError(f"LOCAL_DTYPE=int4 needs torch 2.6 or newer (this is {torch.__version__}).")
    if requested != "auto":
        return requested
    if on_gpu:
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    from bot.generation.quantize import int4_supported

    return "int4" if name == EMBEDDED_ALIAS and int4_supported() else "float32"


def sampling_of(name: str, generation_config: Any) -> GenerationParams:
    """The model's recommended sampling: the embedded model's from its card, else its generation config."""
    if name == EMBEDDED_ALIAS:
        return EMBEDDED_SAMPLING
    if generation_config is None or not getattr(generation_config, "do_sample", False):
        return GenerationParams(temperature=0.0)
    return GenerationParams(
        temperature=float(getattr(generation_config, "temperature", None) or 0.7),
        top_p=getattr(generation_config, "top_p", None),
        top_k=getattr(generation_config, "top_k", None),
    )


def _source(name: str, cache_dir: Path | None) -> tuple[str, dict[str, str]]:
    """(folder or Hub id, extra from_pretrained kwargs) for a model name."""
    if name == EMBEDDED_ALIAS:
        converted = _converted_dir(cache_dir)
        if converted and (converted / "config.json").is_file():
            return str(converted), {}
        path = embedded_model_path()
        return str(path.parent), {"gguf_file": path.name}
    path = Path(name).expanduser()
    if path.suffix == ".gguf" and path.is_file():
        return str(path.parent), {"gguf_file": path.name}
    return (str(path) if path.exists() else name), {}


def _converted_dir(cache_dir: Path | None) -> Path | None:
    return cache_dir / GGUF_FILE.removesuffix(".gguf") if cache_dir else None


def _save_converted(model: Any, tokenizer: Any, cache_dir: Path | None) -> None:
    """Keep the de-quantized GGUF as safetensors: the next start loads in about a second instead of ~40."""
    target = _converted_dir(cache_dir)
    if target is None or target.exists():
        return
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        model.hf_quantizer = None  # the weights are already plain float tensors once loaded
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        staging.rename(target)  # atomic: a crash never leaves a half-written cache behind
    except (OSError, ValueError) as exc:
        log.warning("Could not cache the converted embedded model in %s: %s", target, exc)
        shutil.rmtree(staging, ignore_errors=True)


def load_local_model(
    name: str, device: str | None = None, cache_dir: Path | None = None, dtype: str = "auto"
) -> LocalModel:
    """Load weights and tokenizer; errors become `ModelUnavailableError` with a readable reason."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # progress bars would garble the terminal playground and the logs

    source, extra = _source(name, cache_dir)
    import torch

    target = pick_device(device)
    chosen = pick_dtype(dtype, target, name)
    started = time.perf_counter()
    try:
        # trust_remote_code stays off: a model name typed in Discord must never run code from the Hub.
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, trust_remote_code=False, **extra)
    except (OSError, ValueError, KeyError) as exc:
        log.warning("Loading local model %r failed: %s", name, exc)
        raise ModelUnavailableError(
            f"The local model `{name}` could not be loaded. Check the name or path "
            "(Hub ids need the Hub or a local cache)."
        ) from exc
    if "gguf_file" in extra and name == EMBEDDED_ALIAS:
        _save_converted(model, tokenizer, cache_dir)
    model.to(target)  # type: ignore[arg-type]
    if chosen in QUANTIZED:
        from bot.generation.quantize import quantize
        from bot.generation.resident import own_weights, trim_heap

        quantize(model, chosen)  # from float32: the matmuls change, everything around them stays float32
        own_weights(model)  # the float32 file's mapping can close: only the quantized copy stays resident
        trim_heap()
    else:
        model.to(getattr(torch, chosen))
    model.eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    window = int(getattr(model.config, "max_position_embeddings", 0) or 2048)
    log.info(
        "Loaded local model %r on %s as %s in %.1f s (context %d)",
        name,
        target,
        chosen,
        time.perf_counter() - started,
        window,
    )
    sampling = sampling_of(name, getattr(model, "generation_config", None))
    return LocalModel(name, model, tokenizer, window, target, sampling)
