"""What each caller may see of the video conference: the passcode stays with the points.

A conference's link, platform and meeting id are no secret (a point's calendar file is
public and carries them); its passcode is. It appears only where that point's token (or the
organizer's) was shown: the point's own page, its calendar file fetched with its token and
its e-mail invitation. Everything else that carries the plan passes it through here.
"""

from __future__ import annotations

import copy
from typing import Any

PASSCODE_KEY = "passcode"


def without_passcodes(plan_data: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a plan dict (``plan_to_dict``'s shape) with every passcode left out."""
    data = copy.copy(plan_data)
    event = data.get("event")
    if isinstance(event, dict):
        data["event"] = _without_passcode(event)
    points = data.get("points")
    if isinstance(points, list):
        data["points"] = [_without_passcode(point) for point in points]
    return data


def _without_passcode(section: Any) -> Any:
    if not isinstance(section, dict) or not isinstance(section.get("conference"), dict):
        return section
    conference = {k: v for k, v in section["conference"].items() if k != PASSCODE_KEY}
    return {**section, "conference": conference}
