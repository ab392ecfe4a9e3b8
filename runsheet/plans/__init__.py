"""Plan files: read, check and write the YAML that describes a ceremony.

``parse_plan`` and ``load_plan_file`` turn YAML into a ``Plan`` or raise ``PlanError``
with every problem (field path, line, sentence); ``plan_to_dict``/``plan_from_dict`` carry
a plan through JSON storage; ``dump_plan`` exports YAML; ``default_plan`` is the built-in
ceremony. The format is described in ``docs/plan-format.md``.
"""

from .exporter import dump_plan, plan_to_dict
from .loader import default_plan, load_plan_file, parse_plan, plan_from_dict
from .problems import PlanError, Problem

__all__ = [
    "PlanError",
    "Problem",
    "default_plan",
    "dump_plan",
    "load_plan_file",
    "parse_plan",
    "plan_from_dict",
    "plan_to_dict",
]
