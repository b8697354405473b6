"""calculate: arithmetic through a parser, never `eval`, bounded in size."""

from __future__ import annotations

import pytest

from bot.tools.builtins import Calculate
from bot.tools.calculator import CalculationError, calculate
from bot.tools.types import ToolError, ToolPlace


@pytest.mark.parametrize(
    ("expression", "value"),
    [("2 + 3 * 4", 14), ("(17.5 * 3) / 4", 13.125), ("2 ** 10", 1024), ("-7 // 2", -4), ("sqrt(16)", 4.0),
     ("2^8", 256), ("round(pi, 3)", 3.142), ("10 % 4", 2)],
)  # fmt: skip
def test_arithmetic(expression: str, value: float) -> None:
    assert calculate(expression) == value


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('/etc/passwd')", "(1).__class__", "[1, 2]", "x + 1", "'a' * 3",
     "lambda: 1", "round(2, ndigits=1)"],
)  # fmt: skip
def test_anything_but_arithmetic_is_refused(expression: str) -> None:
    with pytest.raises(CalculationError):
        calculate(expression)


@pytest.mark.parametrize(
    "expression", ["9 ** 9 ** 9", "2 ** 100000", "10 ** 399 * 10 ** 399", "1 / 0", "1" * 201, "+".join("1" * 60)]
)
def test_huge_or_undefined_results_are_refused(expression: str) -> None:
    with pytest.raises(CalculationError):
        calculate(expression)


async def test_the_tool_reports_what_it_cannot_work_out() -> None:
    tool, place = Calculate(), ToolPlace(None, 1)
    assert await tool.run({"expression": "6 * 7"}, place) == "6 * 7 = 42"
    with pytest.raises(ToolError, match="cannot calculate '1 / 0'"):
        await tool.run({"expression": "1 / 0"}, place)
