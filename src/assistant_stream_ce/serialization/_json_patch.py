"""JSON Patch (RFC 6902) and JSON Pointer (RFC 6901): our state operations as patches, and back.

`state_patch` turns one ``set`` (at a path, against the current state) into the one patch
operation that has the same effect as `assistant_stream_ce.state.apply_operation`: ``replace``
when the member or index exists, ``add`` when it does not (a list index just past the end is an
append), and — when an object on the way is missing or ``null`` — one ``add``/``replace`` at
that point whose value nests the rest of the path. `apply_patch` applies a patch the way
``fast-json-patch`` (``applyPatch(doc, patch, validate=true)``) does, for decoders and checks.

>>> pointer(["a/b", "c~d", "0"])
'/a~1b/c~0d/0'
>>> parse_pointer("/a~1b/c~0d/0")
['a/b', 'c~d', '0']
>>> state_patch({"a": {}}, ["a", "x", "y"], 1)
{'op': 'add', 'path': '/a/x', 'value': {'y': 1}}
>>> apply_patch({"a": [1]}, [{"op": "add", "path": "/a/-", "value": 2}])
{'a': [1, 2]}
"""

from __future__ import annotations

import re
from typing import Any

from ..state import StateOperationError, copy_json_value

__all__ = ["PatchError", "apply_patch", "parse_pointer", "pointer", "state_patch"]

_POINTER = re.compile(r"^(/([^/~]|~[01])*)*$")
_OPS = ("add", "remove", "replace", "move", "copy", "test")


class PatchError(ValueError):
    """A patch operation that is malformed or does not apply to the document."""


def pointer(path: list[str]) -> str:
    """The JSON Pointer of a path (``~`` → ``~0``, ``/`` → ``~1``)."""
    return "".join("/" + key.replace("~", "~0").replace("/", "~1") for key in path)


def parse_pointer(text: Any) -> list[str]:
    """The path a JSON Pointer names; `PatchError` for anything that is not one."""
    if type(text) is not str or not _POINTER.match(text):
        raise PatchError(f"{text!r} is not a JSON Pointer")
    if not text:
        return []
    return [key.replace("~1", "/").replace("~0", "~") for key in text[1:].split("/")]


def _banned(path: list[str]) -> bool:
    """Paths fast-json-patch refuses (prototype pollution guard)."""
    return any(
        key == "__proto__" or (key == "prototype" and i and path[i - 1] == "constructor")
        for i, key in enumerate(path)
    )


def _index(key: str, size: int, allow_end: bool) -> int:
    if not (key.isascii() and key.isdigit() and (len(key) == 1 or key[0] != "0")):
        raise StateOperationError(f"{key!r} is not an index")
    index = int(key)
    if index > size or (index == size and not allow_end):
        raise StateOperationError(f"index {index} is out of range")
    return index


def _nest(path: list[str], value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


def state_patch(
    state: Any, path: list[str], value: Any, *, none_is_empty: bool = False
) -> dict[str, Any] | None:
    """The patch operation that sets ``value`` at ``path`` (non-empty) in ``state``.

    ``None`` when no patch can say it and a snapshot must: the state is a scalar (the set
    replaces it with an object), or the path holds a key ``fast-json-patch`` refuses. Raises
    `StateOperationError` when `apply_operation` would refuse the operation. With
    ``none_is_empty`` a ``None`` state counts as the empty object a client without state holds.
    """
    if state is None and none_is_empty:
        state = {}
    if not isinstance(state, (dict, list)) or _banned(path):
        return None
    node: Any = state
    last = len(path) - 1
    for depth, key in enumerate(path):
        if isinstance(node, list):
            index = _index(key, len(node), depth == last)
            if depth == last:
                op = "add" if index == len(node) else "replace"
                return {"op": op, "path": pointer(path), "value": value}
            child = node[index]
            present = True
        elif isinstance(node, dict):
            if key.__class__ is not str:
                raise StateOperationError(f"path segment {key!r} is not a string")
            present = key in node
            if depth == last:
                op = "replace" if present else "add"
                return {"op": op, "path": pointer(path), "value": value}
            child = node.get(key)
        else:
            raise StateOperationError(f"cannot enter a {type(node).__name__} at {key!r}")
        if child is None:
            return {
                "op": "replace" if present else "add",
                "path": pointer(path[: depth + 1]),
                "value": _nest(path[depth + 1 :], value),
            }
        node = child
    raise StateOperationError("empty path")  # pragma: no cover - callers send a snapshot


# -- applying ------------------------------------------------------------------------------------


def _container(doc: Any, path: list[str], what: str) -> Any:
    node = doc
    for key in path:
        if isinstance(node, dict):
            if key not in node:
                raise PatchError(f"{what}: {pointer(path)} does not exist")
            node = node[key]
        elif isinstance(node, list):
            if not (key.isascii() and key.isdigit()) or int(key) >= len(node):
                raise PatchError(f"{what}: {pointer(path)} does not exist")
            node = node[int(key)]
        else:
            raise PatchError(f"{what}: {pointer(path)} does not exist")
    return node


def _get(doc: Any, path: list[str], what: str) -> Any:
    return _container(doc, path, what)


def _list_index(node: list[Any], key: str, what: str, allow_end: bool) -> int:
    if key == "-" and allow_end:
        return len(node)
    if not (key.isascii() and key.isdigit()):
        raise PatchError(f"{what}: {key!r} is not an array index")
    index = int(key)
    if index > len(node) or (index == len(node) and not allow_end):
        raise PatchError(f"{what}: index {index} is out of bounds")
    return index


def _add(doc: Any, path: list[str], value: Any, what: str) -> Any:
    if not path:
        return value
    parent = _container(doc, path[:-1], what)
    key = path[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, key, what, True), value)
    else:
        raise PatchError(f"{what}: the parent of {pointer(path)} is not a container")
    return doc


def _replace(doc: Any, path: list[str], value: Any, what: str) -> Any:
    if not path:
        return value
    parent = _container(doc, path[:-1], what)
    key = path[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"{what}: {pointer(path)} does not exist")
        parent[key] = value
    elif isinstance(parent, list):
        parent[_list_index(parent, key, what, False)] = value
    else:
        raise PatchError(f"{what}: {pointer(path)} does not exist")
    return doc


def _remove(doc: Any, path: list[str], what: str) -> tuple[Any, Any]:
    if not path:
        return None, doc
    parent = _container(doc, path[:-1], what)
    key = path[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"{what}: {pointer(path)} does not exist")
        return doc, parent.pop(key)
    if isinstance(parent, list):
        return doc, parent.pop(_list_index(parent, key, what, False))
    raise PatchError(f"{what}: {pointer(path)} does not exist")


def apply_patch(doc: Any, operations: Any) -> Any:
    """Apply RFC 6902 ``operations`` to ``doc`` in place; return the new document.

    Raises `PatchError` for a malformed operation or one that does not apply (a missing path
    for ``replace``/``remove``/``move``/``copy``/``test``, a missing parent for ``add``, an array
    index out of bounds, a failed ``test``, a prototype-polluting key), like ``fast-json-patch``
    with validation on. Callers pass a copy when the original must survive a failure.
    """
    if type(operations) is not list:
        raise PatchError("a patch must be an array of operations")
    for operation in operations:
        if type(operation) is not dict:
            raise PatchError("a patch operation must be an object")
        op = operation.get("op")
        if op not in _OPS:
            raise PatchError(f"unknown patch operation {op!r}")
        path = parse_pointer(operation.get("path"))
        if _banned(path):
            raise PatchError(f"{op}: {pointer(path)} modifies a prototype")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"{op}: 'value' is missing")
        if op == "add":
            doc = _add(doc, path, copy_json_value(operation["value"]), op)
        elif op == "replace":
            doc = _replace(doc, path, copy_json_value(operation["value"]), op)
        elif op == "remove":
            doc, _ = _remove(doc, path, op)
        elif op == "test":
            if _get(doc, path, op) != operation["value"]:
                raise PatchError(f"test: {pointer(path)} does not hold the expected value")
        else:
            source = parse_pointer(operation.get("from"))
            if _banned(source):
                raise PatchError(f"{op}: {pointer(source)} modifies a prototype")
            if op == "move":
                if path[: len(source)] == source and path != source:
                    raise PatchError("move: cannot move a value into itself")
                doc, value = _remove(doc, source, op)
            else:
                value = copy_json_value(_get(doc, source, op))
            doc = _add(doc, path, value, op)
    return doc
