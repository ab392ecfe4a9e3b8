"""RFC 6902 JSON Patches between two states of one role, built once per change.

A client that asks for patches (``auth.patches: true``) gets the full state once and then,
for every change, the operations that turn the state it holds into the new one: at 3,500
points a check-in changes a few hundred bytes of a state of 840 KB (the MC's).

``state_patch(before, after)`` compares the two states, skipping what is equal (Python's
``==`` on dicts and lists runs in C, so the MC's 3,500 unchanged points cost a
millisecond), and writes ``add``, ``remove`` and ``replace`` operations; a list that grew or
shrank keeps its common head and adds or removes at its end. jsonpatch's ``make_patch``
gives an equivalent patch but walks every key of both documents in Python: on the MC's
state at 3,500 points it took 1,010 ms against 25 ms here (the same busy machine,
README's Performance), so the tests check these patches with jsonpatch's ``apply_patch``
instead of making them with it.

``server_time`` and ``timing`` follow the clock rather than the version: a patch from a
state rebuilt later for the same version (another process made it, or a restart came in
between) replaces them whole, since the rebuilt values are not the ones clients hold; from
the state as it was sent, they are compared like the rest.
"""

from __future__ import annotations

from typing import Any

# Keys whose values depend on the moment the state was sent, not only on its version.
CLOCK_KEYS = ("server_time", "timing")

Operation = dict[str, Any]


def state_patch(
    before: dict[str, Any], after: dict[str, Any], clock_as_sent: bool = True
) -> list[Operation]:
    """Return the operations that turn the state ``before`` into the state ``after``.

    ``clock_as_sent`` says that ``before`` is the state as it was sent, clock keys and all;
    when it was built again later, they are replaced whole.
    """
    ops: list[Operation] = []
    for key in before:
        if key not in after:
            ops.append({"op": "remove", "path": pointer("", key)})
    for key, value in after.items():
        path = pointer("", key)
        if key not in before:
            ops.append({"op": "add", "path": path, "value": value})
        elif key in CLOCK_KEYS and not clock_as_sent:
            ops.append({"op": "replace", "path": path, "value": value})
        elif key in CLOCK_KEYS:
            ops += _field_ops_or_whole(before[key], value, path)
        else:
            _compare(before[key], value, path, ops)
    return ops


def _field_ops_or_whole(before: Any, after: Any, path: str) -> list[Operation]:
    """Return the operations for one clock key: per field, or one ``replace`` if shorter.

    An advance changes most of ``timing``'s fields: one operation holding the object is
    about half the bytes of one operation per field (each repeats the op and the path).
    """
    ops: list[Operation] = []
    _compare(before, after, path, ops)
    if type(after) is dict and len(ops) > len(after) // 2:
        return [{"op": "replace", "path": path, "value": after}]
    return ops


def json_patch(before: Any, after: Any) -> list[Operation]:
    """Return the operations that turn any JSON value ``before`` into ``after``."""
    ops: list[Operation] = []
    _compare(before, after, "", ops)
    return ops


def pointer(path: str, key: str | int) -> str:
    """Return the JSON Pointer (RFC 6901) of ``key`` under ``path``."""
    text = str(key).replace("~", "~0").replace("/", "~1")
    return f"{path}/{text}"


def _same(a: Any, b: Any) -> bool:
    # Python's == holds True == 1 and 1 == 1.0, and JSON tells a flag from a number, so the
    # types must match too. Inside two containers that == finds equal a flag and a number
    # would still pass as equal: the state's shapes never change a value's type that way.
    return type(a) is type(b) and a == b


def _compare(a: Any, b: Any, path: str, ops: list[Operation]) -> None:
    if a is b or _same(a, b):  # shared records (the MC's unchanged points) are the same object
        return
    if type(a) is dict and type(b) is dict:
        for key in a:
            if key not in b:
                ops.append({"op": "remove", "path": pointer(path, key)})
        for key, value in b.items():
            if key in a:
                _compare(a[key], value, pointer(path, key), ops)
            else:
                ops.append({"op": "add", "path": pointer(path, key), "value": value})
    elif type(a) is list and type(b) is list:
        common = min(len(a), len(b))
        for index in range(common):
            if a[index] is not b[index]:
                _compare(a[index], b[index], pointer(path, index), ops)
        for index in range(len(a) - 1, common - 1, -1):  # from the end: indices stay valid
            ops.append({"op": "remove", "path": pointer(path, index)})
        for index in range(common, len(b)):
            ops.append({"op": "add", "path": pointer(path, index), "value": b[index]})
    else:
        ops.append({"op": "replace", "path": path, "value": b})
