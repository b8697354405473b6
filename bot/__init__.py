"""A Discord bot that talks through Hugging Face models."""

__version__ = "0.1.0"
