"""A generated national conference: the built-in ceremony held at thousands of points.

Vietnam's national online conferences reach every commune: after the 2025 reorganisation
34 provinces and about 3,300 communes, so about 3,500 points with the central rooms.
``national_plan_dict`` makes such a plan (the built-in programme, event and slogans, and
``points`` generated points spread over ``groups`` provinces) for the benchmark and the
tests, instead of a 3,500-point file in the repository. ``python -m bench.national_plan
--points 3500 > plan.json`` writes one for ``runsheet load``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from runsheet.plans import default_plan, plan_to_dict

CENTRAL_ROOMS = 2  # the central site's rooms, outside every province


def point_id(number: int) -> str:
    """Return the id of the generated point ``number`` (0 and up)."""
    return f"diem-{number:05d}"


def province_name(number: int) -> str:
    """Return the name of the generated province ``number`` (1 and up)."""
    return f"Tỉnh {number:02d}"


def national_plan_dict(points: int = 3500, groups: int = 34) -> dict[str, Any]:
    """Return a plan (as the plan file's dict) with ``points`` points in ``groups`` provinces.

    The first two are the central site's rooms (no group); the others are communes dealt to
    the provinces in turn, so the provinces differ in size by one point at most.
    """
    if points < CENTRAL_ROOMS + groups:
        raise ValueError(f"points must be at least {CENTRAL_ROOMS + groups}")
    plan = plan_to_dict(default_plan())
    plan["event"]["slug"] = "hoi-nghi-truc-tuyen-toan-quoc"
    plan["event"]["title"] = "Hội nghị trực tuyến toàn quốc"
    generated = [
        {"id": point_id(n), "name": f"Phòng họp {'AB'[n]}", "kind": "room"}
        for n in range(CENTRAL_ROOMS)
    ]
    for n in range(CENTRAL_ROOMS, points):
        commune = n - CENTRAL_ROOMS
        generated.append(
            {
                "id": point_id(n),
                "name": f"Xã {commune // groups + 1:03d} ({province_name(commune % groups + 1)})",
                "kind": "ward",
                "group": province_name(commune % groups + 1),
            }
        )
    plan["points"] = generated
    # The built-in programme names the built-in points; the generated plan's items are
    # delivered from its central room.
    for item in plan["agenda"]:
        if "point" in item:
            item["point"] = point_id(0)
    return plan


def main(argv: list[str] | None = None) -> int:
    """Print a generated plan as JSON (``runsheet load`` reads it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=3500, help="points in all (3500)")
    parser.add_argument("--groups", type=int, default=34, help="provinces (34)")
    args = parser.parse_args(argv)
    json.dump(national_plan_dict(args.points, args.groups), sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
