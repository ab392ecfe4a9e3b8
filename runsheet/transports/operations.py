"""What each HTTP route tells the API document, declared on its view function.

``@operation(...)`` records an ``Operation`` on a view where the route is defined: the
tag it is listed under, the action it performs (whose payload fields then give its
request body), the shape it answers with, who may call it and the refusals it may give.
The view's docstring is its summary (first line) and description (the rest).
``transports.openapi`` reads the app's URL map and these records, so a new route is
documented by the lines that define it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from ..services.payloads import Field

View = TypeVar("View", bound=Callable[..., Any])

# Who may call a route: anyone, only with a token, or anyone (a token shows more).
Callers = Literal["anyone", "token", "anyone_or_token"]


@dataclass(frozen=True)
class Operation:
    """What the API document says about one route beyond its path, method and docstring."""

    tag: str  # the document's group: state, actions, calendar or service
    ok: str  # what the successful answer is, in a sentence
    operation_id: str | None = None  # the view's name when left out
    action: str | None = None  # the services.actions action the route performs
    answers: str | None = None  # the document's schema of the successful answer
    media_type: str = "application/json"
    callers: Callers = "anyone"
    refusals: tuple[str, ...] = ()  # the document's responses for other answers
    parameters: Mapping[str, Field] = field(default_factory=dict)  # path values, if no action
    note: str = ""  # a paragraph shared by several routes, after the docstring's
    status: int = 200  # the status of the successful answer (201 for a route that creates)
    # The request body, if no action: its JSON Schema, or the name of the document's schema.
    body: Mapping[str, Any] | str | None = None
    body_media_types: tuple[str, ...] = ()  # other media types the body may come in (raw)
    request_body: Mapping[str, Any] | None = None  # the body's schema by media type, if no action
    query: Mapping[str, Field] = field(default_factory=dict)  # the query string's values


def operation(tag: str, ok: str, **details: Any) -> Callable[[View], View]:  # noqa: ANN401
    """Record on a view what the API document says about its route (see ``Operation``)."""
    record = Operation(tag, ok, **details)

    def attach(view: View) -> View:
        view.api_operation = record  # type: ignore[attr-defined]
        return view

    return attach


def operation_of(view: Callable[..., Any]) -> Operation | None:
    """Return what ``view``'s route tells the API document, or None for an undocumented one."""
    return getattr(view, "api_operation", None)


def summary_and_description(view: Callable[..., Any]) -> tuple[str, str]:
    """Return the first paragraph of the view's docstring and the rest, each on one line."""
    paragraphs = [
        " ".join(line.strip() for line in paragraph.splitlines())
        for paragraph in (inspect.getdoc(view) or "").split("\n\n")
        if paragraph.strip()
    ]
    if not paragraphs:
        return "", ""
    return paragraphs[0].rstrip("."), "\n\n".join(paragraphs[1:])
