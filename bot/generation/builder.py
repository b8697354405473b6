"""Builds the model registry from settings: each backend kind registers itself, then the configured models."""

from dataclasses import replace

from bot.generation.embedded import EMBEDDED_ALIAS
from bot.generation.endpoints import parse_api_model
from bot.generation.hf_api import ApiConfig, HFApiBackend
from bot.generation.local_kind import LocalKind, check_local_extra, local_configured, local_installed
from bot.generation.registry import BackendKind, ModelRegistry
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


def api_where(config: ApiConfig) -> str:
    """Where an API model runs, as `/model list` shows it (a server's address carries no secret)."""
    return config.base_url or f"Hugging Face API, provider {config.provider or 'auto'}"


def api_endpoints(registry: ModelRegistry) -> list[str]:
    """The distinct servers API models are sent to (providers are Hugging Face's to keep up)."""
    return list(dict.fromkeys(e.where for e in registry.entries() if e.kind == "api" and e.where.startswith("http")))


def build_registry(settings: Settings, local: LocalKind | None = None) -> ModelRegistry:
    """The configured models. Local ones are listed only when the `local` extra is installed (the embedded
    model then always is); a local model configured without it is a `ConfigError`."""
    check_local_extra(settings)
    config = api_config(settings)
    registry = ModelRegistry(settings.default_model)
    if local_installed() or local_configured(settings):
        registry.register_kind("local", (local or LocalKind(settings)).as_kind())
        registry.add(EMBEDDED_ALIAS, "local")
        for name in settings.local_models:
            if name != EMBEDDED_ALIAS:
                registry.add(name, "local")
    vision, tooled = set(settings.vision_models), set(settings.tool_models)
    configs: dict[str, ApiConfig] = {}  # per API model: its own endpoint and token when its entry names them
    registry.register_kind(
        "api",
        BackendKind(
            lambda e: HFApiBackend(
                e.name, configs.get(e.name, config), takes_images=e.name in vision, takes_tools=e.name in tooled
            ),
            api_where(config),
        ),
    )
    for entry in settings.api_models:
        spec = parse_api_model(entry)
        own = config
        if spec.base_url or spec.provider or spec.token_variable:
            own = replace(
                config,
                base_url=spec.base_url or (None if spec.provider else config.base_url),
                provider=spec.provider or config.provider,
                token=settings.api_token(spec.token_variable),
            )
        configs[spec.name] = own
        registry.add(spec.name, "api", where=api_where(own))
    registry.check_default()
    return registry
