"""The one exception family whose messages a Discord user may read.

Anything else that escapes a service is a bug or an outage: it is logged with detail and the user gets a
generic sentence. Never put provider error bodies or secrets into these messages.
"""


class BotError(Exception):
    """An error with a sentence fit for the user: what happened and what to do."""

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class InvalidInputError(BotError):
    """The request itself is unusable (empty, too long, malformed)."""


class UnknownModelError(BotError):
    """A model name that no backend knows."""


class PromptTooLongError(InvalidInputError):
    """The prompt does not fit the model's context window."""


class ModelUnavailableError(BotError):
    """The model could not be reached, refused us, or failed to load."""


class BusyError(BotError):
    """Too much work queued; try again shortly."""


class StoreBusyError(BusyError):
    """The database could not take the work in time (locked, pool empty, unreachable); nothing of it was written."""

    def __init__(self) -> None:
        super().__init__("I'm too busy to take your question right now. Please ask again in a minute.")


class GenerationInterrupted(BotError):
    """Generation failed after some text was delivered; `partial_text` keeps what arrived."""

    def __init__(self, user_message: str, partial_text: str) -> None:
        super().__init__(user_message)
        self.partial_text = partial_text


class NotFoundError(BotError):
    """A named thing (persona, setting) does not exist."""


class PermissionDeniedError(BotError):
    """The caller may not do this."""


class ConfigError(Exception):
    """An operator's mistake in the configuration, found at start-up: the message says what to change.

    Not a `BotError`: no Discord user ever reads it; the command line prints it and exits."""
