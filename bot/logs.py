"""Logging, configured once by the composition root; modules use `logging.getLogger(__name__)`."""

import logging

_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=_FORMAT)
    # Libraries that chatter at INFO about every request.
    for noisy in ("discord.http", "httpx", "httpx2", "aiosqlite", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
