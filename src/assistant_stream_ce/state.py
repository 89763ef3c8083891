"""Run state: a JSON-like value kept locally and mirrored to the client as operations.

``controller.state`` returns a `StateProxy`. Assignments through it emit ``set`` operations at
their path, ``+=`` on a string emits ``append-text``; reads return current values (containers
come back as proxies so that nested assignments know their path). An operation costs about the
length of its path: the state is updated in place, never copied around the change.

Values assigned into the state are copied (containers only) so that later in-place changes made
through the proxy can never alter an operation that is still waiting to be sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from .create_run import _RunCore

__all__ = [
    "StateOperationError",
    "StateProxy",
    "apply_operation",
    "copy_json_value",
]

PathKey = Union[str, int]


def copy_json_value(value: Any) -> Any:
    """Copy the dicts and lists of a JSON-like value (leaves are shared)."""
    if isinstance(value, StateProxy):
        value = value._assistant_stream_value_()
    cls = value.__class__
    if cls is dict:
        return {key: copy_json_value(item) for key, item in value.items()}
    if cls is list or cls is tuple:
        return [copy_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: copy_json_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_json_value(item) for item in value]
    return value


def _lookup_key(container: Any, key: PathKey) -> Any:
    """The key to read ``container`` with (list indices may be negative or digit strings)."""
    if isinstance(container, list):
        return int(_canonical_key(container, key))
    return key


class StateOperationError(ValueError):
    """A state operation that cannot be applied to the state it was sent for."""


def _child_key(node: Any, key: Any, allow_append: bool) -> Any:
    """The container key for path segment ``key`` (list indices: decimal, no leading zero)."""
    if isinstance(node, list):
        if not (
            key.__class__ is str
            and key.isascii()
            and key.isdigit()
            and (len(key) == 1 or key[0] != "0")
        ):
            raise StateOperationError(f"{str(key)[:40]!r} is not an index")
        if len(key) > 18:
            raise StateOperationError(f"index {key[:20]}… is out of range")
        index = int(key)
        if index > len(node) or (index == len(node) and not allow_append):
            raise StateOperationError(f"index {index} is out of range")
        return index
    if isinstance(node, dict):
        if key.__class__ is not str:
            raise StateOperationError(f"path segment {key!r} is not a string")
        return key
    raise StateOperationError(f"cannot enter a {type(node).__name__} at {key!r}")


def apply_operation(state: Any, operation: Any) -> Any:
    """Apply one state operation (as the protocols carry it) in place; return the new root.

    The one rule both sides use: the run's own state (`StateStore`) and every client-side
    mirror (the accumulator). ``set`` stores a copy of its value (creating missing objects on
    the way); ``append-text`` extends a string (a missing one counts as ``""``). A path is a
    list of strings; a list index is a decimal without leading zeros, and only the last segment
    may address the slot just past a list's end (an append). Raises `StateOperationError`.
    """
    kind = operation.get("type")
    path = operation.get("path")
    value = operation.get("value")
    if not isinstance(path, list):
        raise StateOperationError("the path is not a list")
    if kind == "set":
        try:
            value = copy_json_value(value)
        except RecursionError:
            raise StateOperationError("the value is nested too deep") from None
    elif kind == "append-text":
        if not isinstance(value, str):
            raise StateOperationError("append-text needs a string")
    else:
        raise StateOperationError(f"unknown operation {kind!r}")
    if not path:
        if kind == "set":
            return value
        if state is not None and not isinstance(state, str):
            raise StateOperationError("append-text on a value that is not a string")
        return (state or "") + value
    root = state if isinstance(state, (dict, list)) else {}
    node = root
    for key in path[:-1]:
        key = _child_key(node, key, False)
        child = node[key] if isinstance(node, list) else node.get(key)
        if child is None:
            child = {}
            node[key] = child
        node = child
    key = _child_key(node, path[-1], True)
    if kind == "append-text":
        if isinstance(node, list):
            current = node[key] if key < len(node) else None
        else:
            current = node.get(key)
        if current is not None and not isinstance(current, str):
            raise StateOperationError("append-text on a value that is not a string")
        value = (current or "") + value
    if isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value
    return root


def _canonical_key(node: Any, key: PathKey) -> str:
    """A path segment as the protocols carry it, resolved against the container it indexes."""
    if isinstance(node, list):
        if key.__class__ is str:
            if not (key.isascii() and key.isdigit()):
                raise TypeError(f"list index must be an integer, not {key!r}")
            index = int(key)
        elif isinstance(key, int) and not isinstance(key, bool):
            index = key
        else:
            raise TypeError(f"list index must be an integer, not {key!r}")
        if index < 0:
            index += len(node)
            if index < 0:
                raise IndexError(f"list index {key} is out of range")
        return str(index)
    if key.__class__ is not str:
        raise TypeError(
            f"state keys must be strings (the protocols carry every key as a string), got {key!r}"
        )
    return key


class StateStore:
    """The local copy of the state and the operations that change it.

    Every change is turned into the operation the client receives and applied here with
    `apply_operation`, so both sides always hold the same state.
    """

    __slots__ = ("_core", "data")

    def __init__(self, core: _RunCore, initial: Any) -> None:
        self._core = core
        self.data = copy_json_value(initial)

    def get(self, path: tuple[PathKey, ...]) -> Any:
        node = self.data
        for key in path:
            node = node[_lookup_key(node, key)]
        return node

    def _wire_path(self, path: tuple[PathKey, ...]) -> tuple[list[str], Any]:
        """The canonical path of ``path`` and the value now at it (None when there is none)."""
        node = self.data
        wire: list[str] = []
        for key in path:
            segment = _canonical_key(node, key) if isinstance(node, (dict, list)) else str(key)
            wire.append(segment)
            if isinstance(node, list):
                index = int(segment)
                node = node[index] if index < len(node) else None
            elif isinstance(node, dict):
                node = node.get(segment)
            else:
                node = None
        return wire, node

    def _apply(self, operation: dict[str, Any]) -> None:
        try:
            self.data = apply_operation(self.data, operation)
        except StateOperationError as exc:
            raise TypeError(f"cannot change the state at {operation['path']}: {exc}") from None
        self._core.emit_state(operation)

    def set(self, path: tuple[PathKey, ...], value: Any) -> None:
        """Set ``value`` at ``path`` and emit the matching operation."""
        if isinstance(value, StateProxy):
            if value._path == path:
                return  # `state[k] += [...]` hands back the same proxy: already applied
            value = copy_json_value(value)
        wire, current = self._wire_path(path)
        if (
            wire
            and value.__class__ is str
            and current.__class__ is str
            and len(value) > len(current)
            and value.startswith(current)
        ):
            self._apply({"type": "append-text", "path": wire, "value": value[len(current) :]})
            return
        self._apply({"type": "set", "path": wire, "value": value})

    def append_text(self, path: tuple[PathKey, ...], text: str) -> None:
        """Append ``text`` to the string at ``path`` and emit ``append-text``."""
        if not path:
            raise TypeError("append_state_text needs a path to a string inside the state")
        wire, current = self._wire_path(path)
        if current.__class__ is not str:
            raise TypeError(
                f"cannot append text at {wire}: the value there is "
                f"{type(current).__name__}, not str"
            )
        self._apply({"type": "append-text", "path": wire, "value": text})

    def delete(self, path: tuple[PathKey, ...]) -> None:
        """Remove the entry at ``path``: the parent container is re-sent with a ``set``."""
        wire, _ = self._wire_path(path)
        parent = self.get(path[:-1])
        key = wire[-1]
        del parent[int(key) if isinstance(parent, list) else key]
        self._core.emit_state({"type": "set", "path": wire[:-1], "value": copy_json_value(parent)})


class StateProxy:
    """A live view of one container inside the run state.

    Supports the dict and list operations that map to state operations: item get/set/delete,
    ``get``, ``setdefault``, ``update``, ``append``, ``extend``, ``+=``, ``len``, ``in``,
    iteration and equality. ``keys()``/``values()``/``items()`` return plain current values.
    """

    __slots__ = ("_path", "_store")

    def __init__(self, store: StateStore, path: tuple[PathKey, ...]) -> None:
        self._store = store
        self._path = path

    def _assistant_stream_value_(self) -> Any:
        return self._store.get(self._path)

    def _wrap(self, key: PathKey, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            return StateProxy(self._store, (*self._path, key))
        return value

    def __getitem__(self, key: PathKey) -> Any:
        container = self._store.get(self._path)
        return self._wrap(key, container[_lookup_key(container, key)])

    def __setitem__(self, key: PathKey, value: Any) -> None:
        self._store._core.state_call(self._store.set, (*self._path, key), value)

    def __delitem__(self, key: PathKey) -> None:
        self._store._core.state_call(self._store.delete, (*self._path, key))

    def get(self, key: PathKey, default: Any = None) -> Any:
        container = self._store.get(self._path)
        try:
            return self._wrap(key, container[_lookup_key(container, key)])
        except (KeyError, IndexError):
            return default

    def setdefault(self, key: PathKey, default: Any = None) -> Any:
        container = self._store.get(self._path)
        if key not in container:
            self[key] = default
        return self[key]

    def update(self, other: Any = (), /, **kwargs: Any) -> None:
        items = other.items() if hasattr(other, "items") else other
        for key, value in items:
            self[key] = value
        for key, value in kwargs.items():
            self[key] = value

    def append(self, value: Any) -> None:
        container = self._store.get(self._path)
        if not isinstance(container, list):
            raise TypeError(f"append() needs a list, the state holds {type(container).__name__}")
        self[len(container)] = value

    def extend(self, values: Any) -> None:
        for value in values:
            self.append(value)

    def __iadd__(self, other: Any) -> StateProxy:
        self.extend(other)
        return self

    def keys(self) -> Any:
        return self._store.get(self._path).keys()

    def values(self) -> Any:
        return self._store.get(self._path).values()

    def items(self) -> Any:
        return self._store.get(self._path).items()

    def __len__(self) -> int:
        return len(self._store.get(self._path))

    def __iter__(self) -> Iterator[Any]:
        return iter(self._store.get(self._path))

    def __contains__(self, key: object) -> bool:
        return key in self._store.get(self._path)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, StateProxy):
            other = other._assistant_stream_value_()
        return bool(self._store.get(self._path) == other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"StateProxy({self._store.get(self._path)!r})"
