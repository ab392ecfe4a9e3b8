"""Plan problems told in the reader's language, through the message catalogs.

Each problem the loader finds carries a stable code and the values its sentence names
(``Problem.code``, ``Problem.params``); ``plan.problem.<code>`` in ``i18n/vi.json`` and
``en.json`` is that sentence with ``{name}`` for each value. English is the loader's own
sentence (what ``runsheet load`` prints), so the catalog's English never drifts from it
unnoticed: tests compare the two. A problem without a code is told in English everywhere.
"""

from __future__ import annotations

from typing import Any

from ..i18n import catalog
from .problems import Problem

# Values that are words themselves, told through the catalog: name -> (catalog prefix, as).
WORD_VALUES = {
    "found": ("plan.kind.", "found"),
    "section": ("plan.needed.", "needed"),
    "choices": ("plan.choices.", "choices"),
}


def problem_message(problem: Problem, language: str) -> str:
    """Return the problem's sentence (without its path) in ``language``."""
    key = f"plan.problem.{problem.code}"
    if language == "en" or not problem.code or key not in catalog(language):
        return problem.message
    return catalog(language)[key].format_map(catalog_values(problem.params, language))


def english(code: str, params: dict[str, Any]) -> str:
    """Return the English sentence of a problem found outside the loader, from its code."""
    return catalog("en")[f"plan.problem.{code}"].format_map(catalog_values(params, "en"))


def catalog_values(params: dict[str, Any], language: str) -> dict[str, Any]:
    """Return a problem's values as its catalog sentence names them, in ``language``."""
    values: dict[str, Any] = {}
    for name, value in params.items():
        if name in WORD_VALUES:
            prefix, as_name = WORD_VALUES[name]
            values[as_name] = catalog(language).get(f"{prefix}{value}", str(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            values[name] = _number(value, language)
        else:
            values[name] = value
    return values


def _number(value: int, language: str) -> str:
    grouped = f"{value:,}"
    return grouped.replace(",", ".") if language == "vi" else grouped
