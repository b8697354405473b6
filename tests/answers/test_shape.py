"""The pipeline's shape, as the code shows it: `bot/answers/` knows no transport and no store."""

from __future__ import annotations

import ast
from pathlib import Path

ANSWERS = Path(__file__).resolve().parents[2] / "bot" / "answers"
FORBIDDEN = ("discord", "sqlalchemy", "aiohttp", "bot.db", "bot.discord_ui", "cogs")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_the_answer_pipeline_imports_nothing_from_discord_or_the_database() -> None:
    found = {
        f"{path.name}: {name}"
        for path in ANSWERS.glob("*.py")
        for name in imported(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN)
    }
    assert found == set()
