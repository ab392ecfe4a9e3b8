"""Errors the ceremony's rules raise; transports turn each kind into a status code."""

from __future__ import annotations


class RunsheetError(Exception):
    """A request the service refuses, with a sentence that says why."""

    kind = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidInput(RunsheetError):
    """The payload is malformed: a missing, mistyped or out-of-range field."""

    kind = "invalid"


class NotFound(RunsheetError):
    """The item, point or message named does not exist."""

    kind = "not_found"


class Unauthenticated(RunsheetError):
    """No token, or a token nobody holds."""

    kind = "unauthenticated"


class OtherEvent(Unauthenticated):
    """A token of another event than the active one: says which event it belongs to."""

    kind = "other_event"

    def __init__(self, link_event: tuple[str, str], active_event: tuple[str, str]) -> None:
        self.link_event = link_event  # (slug, title) of the event the token belongs to
        self.active_event = active_event  # (slug, title) of the event active now
        super().__init__(
            f"this link belongs to the event {link_event[1]!r}; "
            f"the event {active_event[1]!r} is active now"
        )


class InvalidEvent(RunsheetError):
    """A new event's slug, title or source that cannot be used (the body itself is fine)."""

    kind = "invalid_event"


class Forbidden(RunsheetError):
    """The token is valid but its role may not do this."""

    kind = "forbidden"


class Conflict(RunsheetError):
    """The action does not fit the ceremony's current state (e.g. no next item)."""

    kind = "conflict"


class StaleVersion(Conflict):
    """The action was made from a state that has changed since."""

    kind = "stale"


class JustMoved(Conflict):
    """A move of the run-sheet right after another one, not confirmed."""

    kind = "just_moved"

    def __init__(self, message: str, *, moved_by: dict) -> None:
        super().__init__(message)
        self.moved_by = moved_by  # {"role", "console", "at"} of the move just made


class TooLarge(RunsheetError):
    """The payload is larger than the service accepts."""

    kind = "too_large"


class RateLimited(RunsheetError):
    """The client sends more than the service accepts in a given time."""

    kind = "rate_limited"


class UnsupportedDocument(RunsheetError):
    """A document whose content is not one of the accepted types, or not the type it says."""

    kind = "unsupported_media_type"


class MissingDocument(RunsheetError):
    """A submission without its document, or with an empty one."""

    kind = "missing_document"
