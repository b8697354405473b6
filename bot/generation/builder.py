"""Builds the model registry from settings (used by the composition root and the seed facade)."""

from bot.generation.hf_api import ApiConfig
from bot.generation.local import LocalModelPool
from bot.generation.registry import ModelRegistry
from bot.settings import Settings


def api_config(settings: Settings) -> ApiConfig:
    return ApiConfig(
        token=settings.hf_token.get_secret_value() if settings.hf_token else None,
        base_url=settings.hf_base_url,
        provider=settings.hf_provider,
        timeout_seconds=settings.hf_timeout_seconds,
        max_retries=settings.hf_max_retries,
        retry_max_wait_seconds=settings.hf_retry_max_wait_seconds,
        context_tokens=settings.api_context_tokens,
    )


def build_registry(settings: Settings) -> ModelRegistry:
    return ModelRegistry(
        api_config=api_config(settings),
        pool=LocalModelPool(
            settings.local_device,
            settings.model_cache_dir,
            settings.local_context_tokens,
            settings.local_max_batch,
            settings.local_max_waiting,
        ),
        local_models=settings.local_models,
        api_models=settings.api_models,
        default_model=settings.default_model,
    )
