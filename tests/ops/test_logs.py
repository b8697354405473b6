"""LOG_FORMAT=json: one object per line, answer fields on every line written while an answer runs, secrets masked."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncGenerator, Iterator, Sequence
from typing import Any

import pytest

from bot.answers.limits import GuildGate
from bot.answers.question import Question
from bot.answers.service import AnswerService
from bot.db.database import Database
from bot.domain import Asker, ChatMessage, GenerationParams, Place
from bot.generation.registry import ModelRegistry
from bot.logs import configure_logging
from bot.services.conversation import ConversationService
from bot.services.cooldowns import Cooldowns
from bot.streaming.pacing import PacerRegistry
from tests.answers.test_service import RecordingSurface
from tests.standins.scripted import ScriptedBackend

SECRET = "hf_SuperSecretToken123456"


class LeakyBackend(ScriptedBackend):
    """Logs the way a careless library might (with the token in it), then fails."""

    async def stream(self, messages: Sequence[ChatMessage], params: GenerationParams) -> AsyncGenerator[str, None]:
        logging.getLogger("some.library").warning("calling with Authorization: Bearer %s", SECRET)
        yield "Half"
        raise RuntimeError("the server went away")


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    configure_logging("INFO", "json", secrets=[SECRET])
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)  # what would go to stderr
    yield written
    root.handlers[:] = saved
    root.setLevel(level)


async def test_lines_carry_the_answer_and_never_the_token(json_logs: io.StringIO, database: Database) -> None:
    registry = ModelRegistry("leaky")
    registry.register(LeakyBackend(name="leaky"))
    answers = AnswerService(ConversationService(database, registry), PacerRegistry(), Cooldowns(0), GuildGate(2))
    await answers.answer(Question(Place(41, 42), Asker(5, "ann"), "hi", "mention"), RecordingSurface())
    logging.getLogger("bot.test").info("after the answer")

    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    during = [line for line in lines if line["logger"] in ("some.library", "bot.streaming.renderer")]
    assert len(during) >= 2
    for line in during:
        assert (line["guild_id"], line["channel_id"], line["model"], line["path"]) == (41, 42, "leaky", "mention")
        assert isinstance(line["answer_id"], int)
    assert any("exception" in line and "the server went away" in line["exception"] for line in during)
    leaked: Any = [line for line in lines if SECRET in json.dumps(line)]
    assert leaked == []
    assert any("Bearer ***" in line["message"] for line in during)
    after = next(line for line in lines if line["message"] == "after the answer")
    assert "answer_id" not in after  # outside an answer, no answer fields
