"""What a plan loader reports: one Problem per mistake, all of them in one PlanError."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One mistake in a plan: where it is (field path, line) and what is wrong, in a sentence."""

    path: str  # field path like "agenda[3].planned_minutes"; "" for the file as a whole
    message: str  # a plain sentence, e.g. "must be a whole number of minutes above 0"
    line: int | None = None  # 1-based line in the YAML text, when there is one
    source: str = ""  # the file name or "<plan>", shown in front of the line
    # A stable code and the values its text names, so that ``plans.messages`` can tell the
    # message in the reader's language; "" for problems told in English only.
    code: str = field(default="", compare=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    # Where it is in a spreadsheet (``plans.workbook``): the sheet's name as the workbook
    # spells it, the 1-based row, the column's header; "" and None elsewhere.
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = self.source or "<plan>"
        if self.line is not None:
            where += f":{self.line}"
        if self.sheet:
            where += f": {self.cell}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {what}"

    @property
    def cell(self) -> str:
        """Return where in a spreadsheet it is, in English: "Programme, row 5, column Minutes"."""
        parts = [self.sheet]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


class PlanError(Exception):
    """A plan that cannot be used; ``problems`` lists every mistake found, not just the first."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


FieldPath = tuple[str | int, ...]  # mapping keys and list indices, from the top of the plan


def format_path(path: FieldPath) -> str:
    """Return a field path as text: ``agenda[3].planned_minutes``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            # keys with spaces or dots would make the path ambiguous; quote them
            text += f"[{part!r}]"
    return text
