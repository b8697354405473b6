"""The embedded model with the product's own settings answers simple questions correctly."""

from __future__ import annotations

from bot.db.database import Database
from bot.domain import Asker, Place
from bot.generation.builder import build_registry
from bot.services.conversation import ConversationService
from bot.settings import Settings
from tests.conftest import MODEL_CACHE
from tests.quality.quiz import QUIZ, right


async def test_default_persona_answers_the_quiz(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The shipped defaults: the persona in force, the model's own sampling, LOCAL_DTYPE=auto.
    settings = Settings(_env_file=None, model_cache_dir=MODEL_CACHE)  # type: ignore[call-arg]
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'quiz.db'}")
    registry = build_registry(settings)
    service = ConversationService(db, registry, seed=7)  # a fixed seed: the same answers on every run
    answers = []
    try:
        for index, (question, _) in enumerate(QUIZ):
            place = Place(guild_id=None, channel_id=100 + index)  # each in a fresh conversation
            answers.append(await service.answer_text(place, Asker(1, "quizzer"), question))
    finally:
        registry.close()
        await db.close()
    score = sum(right(answer, accepted) for answer, (_, accepted) in zip(answers, QUIZ, strict=True))
    assert score >= 10, list(zip([q for q, _ in QUIZ], answers, strict=True))
    assert not any(a.lower().startswith(("assistant:", "quizzer:")) for a in answers)
