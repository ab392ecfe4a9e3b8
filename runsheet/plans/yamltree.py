"""Read YAML text into plain values and remember the line each value came from.

PyYAML's safe loader quietly turns ``2021-10-01`` into a date and ``08:00:00+07:00``
timestamps into datetimes; this reader leaves timestamps as text so the plan checks can
say exactly what is wrong, and records the line of every key and list entry so each
problem can point at its line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .problems import FieldPath, PlanError, Problem, format_path

MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
MERGE_TAG = "tag:yaml.org,2002:merge"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
SCALAR_TAGS = {
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "timestamp")
}

# Aliases let a small file expand into a huge tree ("billion laughs"); stop well before,
# yet leave room for a national conference (20,000 points of a dozen values each).
MAX_NODES = 500_000
# PyYAML's scanner slows down with the square of [ { nesting; a plan needs a handful.
MAX_FLOW_DEPTH = 50


class _Loader(yaml.SafeLoader):
    """A safe loader that reads unquoted dates and times as plain text."""

    def fetch_flow_collection_start(self, token_class: type) -> None:
        if self.flow_level >= MAX_FLOW_DEPTH:
            problem = f"[ and {{ nest more than {MAX_FLOW_DEPTH} levels deep"
            raise yaml.scanner.ScannerError(None, None, problem, self.get_mark())
        super().fetch_flow_collection_start(token_class)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != TIMESTAMP_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _TooLarge(Exception):
    """The document expands to more than MAX_NODES values."""


@dataclass
class Tree:
    """Plain values read from YAML, the 1-based line of each path, and problems met on the way."""

    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def read_yaml(text: str, source: str) -> Tree:
    """Read one YAML document; raise PlanError if it is not YAML at all."""
    loader = None
    try:
        loader = _Loader(text)  # checks for unprintable characters already
        root = loader.get_single_node()
        if root is None:
            raise _fatal(source, None, "the file is empty; a plan needs event, points and agenda")
        tree = Tree(data=None, lines={(): _line(root)})
        tree.data = _Walker(loader, tree, source).value(root, ())
        return tree
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise _fatal(source, mark.line + 1 if mark else None, _syntax_message(err)) from None
    except yaml.reader.ReaderError as err:
        line = text.count("\n", 0, err.position) + 1
        message = f"contains the character U+{err.character:04X}, which YAML does not allow"
        raise _fatal(source, line, message) from None
    except yaml.YAMLError as err:
        raise _fatal(source, None, f"is not valid YAML: {err}") from None
    except (_TooLarge, RecursionError):
        message = "is too large or nests too deeply (or has aliases that refer to themselves)"
        raise _fatal(source, None, message) from None
    finally:
        if loader is not None:
            loader.dispose()


def _fatal(source: str, line: int | None, message: str) -> PlanError:
    return PlanError([Problem("", message, line, source)])


def _syntax_message(err: yaml.MarkedYAMLError) -> str:
    parts = [p for p in (err.context, err.problem) if p]
    return "is not valid YAML: " + ", ".join(parts)


def _short(tag: str) -> str:
    """Return a tag as it is written in YAML: !!int rather than tag:yaml.org,2002:int."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag.removeprefix(prefix) if tag.startswith(prefix) else tag


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _Walker:
    """Turn composed YAML nodes into dicts, lists and scalars, noting lines and oddities."""

    def __init__(self, loader: _Loader, tree: Tree, source: str) -> None:
        self.loader = loader
        self.tree = tree
        self.source = source
        self.budget = MAX_NODES

    def value(self, node: Node, path: FieldPath) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLarge
        if isinstance(node, MappingNode):
            return self.mapping(node, path)
        if isinstance(node, SequenceNode):
            return self.sequence(node, path)
        return self.scalar(node, path)

    def problem(self, path: FieldPath, node: Node, message: str) -> None:
        self.tree.problems.append(Problem(format_path(path), message, _line(node), self.source))

    def check_tag(self, node: Node, path: FieldPath, allowed: set[str]) -> None:
        if node.tag not in allowed:
            message = f"uses the YAML tag {_short(node.tag)}, which plan files do not use"
            self.problem(path, node, message)

    def mapping(self, node: MappingNode, path: FieldPath) -> dict[str, Any]:
        self.check_tag(node, path, {MAP_TAG})
        self.report_repeated_keys(node, path)
        try:
            self.loader.flatten_mapping(node)  # resolve "<<: *anchor" merge keys
        except yaml.YAMLError as err:
            self.problem(path, node, f"has a merge key that cannot be used: {err.problem}")
            node.value = [(k, v) for k, v in node.value if k.tag != MERGE_TAG]
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(path, key_node, "has a key that is a list or mapping; keys are names")
                continue
            # the key as written: "yes:" stays "yes", not True
            key = key_node.value
            self.tree.lines[(*path, key)] = _line(key_node)
            result[key] = self.value(value_node, (*path, key))
        return result

    def report_repeated_keys(self, node: MappingNode, path: FieldPath) -> None:
        first_lines: dict[str, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == MERGE_TAG:
                continue
            key = key_node.value
            if key in first_lines:
                message = f"is given twice (first on line {first_lines[key]})"
                self.problem((*path, key), key_node, message)
            else:
                first_lines[key] = _line(key_node)

    def sequence(self, node: SequenceNode, path: FieldPath) -> list[Any]:
        self.check_tag(node, path, {SEQ_TAG})
        result = []
        for index, item in enumerate(node.value):
            self.tree.lines[(*path, index)] = _line(item)
            result.append(self.value(item, (*path, index)))
        return result

    def scalar(self, node: ScalarNode, path: FieldPath) -> Any:
        self.check_tag(node, path, SCALAR_TAGS)
        if node.tag not in SCALAR_TAGS:
            return node.value
        try:
            return self.loader.construct_object(node)
        except Exception:  # PyYAML's scalar constructors raise assorted errors
            # e.g. "0b_" looks like a binary number to the resolver but int() refuses it
            self.problem(path, node, f"cannot be read as {_short(node.tag)}")
            return node.value
