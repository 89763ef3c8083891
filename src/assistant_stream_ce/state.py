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

__all__ = ["StateProxy", "copy_json_value"]

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


def wire_path(path: tuple[PathKey, ...]) -> list[str]:
    """Path segments as the protocols carry them: strings (list indices in decimal)."""
    return [key if key.__class__ is str else str(key) for key in path]


def _current(parent: Any, key: Any) -> Any:
    if isinstance(parent, list):
        return parent[key] if key < len(parent) else None
    return parent.get(key)


def _resolve_key(container: Any, key: Any) -> Any:
    if isinstance(container, list):
        if isinstance(key, str):
            if not key.isdigit():
                raise TypeError(f"list index must be an integer, not {key!r}")
            key = int(key)
        if key < 0:
            key += len(container)
    return key


class StateStore:
    """The local copy of the state and the operations that change it."""

    __slots__ = ("_core", "data")

    def __init__(self, core: _RunCore, initial: Any) -> None:
        self._core = core
        self.data = copy_json_value(initial)

    def get(self, path: tuple[PathKey, ...]) -> Any:
        node = self.data
        for key in path:
            node = node[_resolve_key(node, key)]
        return node

    def _parent(self, path: tuple[PathKey, ...]) -> tuple[Any, Any]:
        node = self.data
        if node is None:
            node = self.data = {}
        for key in path[:-1]:
            key = _resolve_key(node, key)
            child = node[key] if isinstance(node, list) else node.get(key)
            if child is None:
                child = {}
                node[key] = child
            node = child
        if not isinstance(node, (dict, list)):
            raise TypeError(f"cannot set a key inside a {type(node).__name__} value")
        return node, _resolve_key(node, path[-1])

    def set(self, path: tuple[PathKey, ...], value: Any) -> None:
        """Set ``value`` at ``path`` and emit the matching operation."""
        if isinstance(value, StateProxy):
            if value._path == path:
                return  # `state[k] += [...]` hands back the same proxy: already applied
            value = copy_json_value(value)
        if not path:
            self.data = copy_json_value(value)
            self._core.emit_state({"type": "set", "path": [], "value": value})
            return
        parent, key = self._parent(path)
        if value.__class__ is str:
            current = _current(parent, key)
            if current.__class__ is str and len(value) > len(current) and value.startswith(current):
                parent[key] = value
                self._core.emit_state(
                    {"type": "append-text", "path": wire_path(path), "value": value[len(current) :]}
                )
                return
        stored = copy_json_value(value)
        if isinstance(parent, list) and key == len(parent):
            parent.append(stored)
        else:
            parent[key] = stored
        self._core.emit_state({"type": "set", "path": wire_path(path), "value": value})

    def append_text(self, path: tuple[PathKey, ...], text: str) -> None:
        """Append ``text`` to the string at ``path`` and emit ``append-text``."""
        if not path:
            raise TypeError("append_state_text needs a path to a string inside the state")
        parent, key = self._parent(path)
        current = _current(parent, key)
        if current.__class__ is not str:
            raise TypeError(
                f"cannot append text at {wire_path(path)}: the value there is "
                f"{type(current).__name__}, not str"
            )
        parent[key] = current + text
        self._core.emit_state({"type": "append-text", "path": wire_path(path), "value": text})

    def delete(self, path: tuple[PathKey, ...]) -> None:
        """Remove the entry at ``path``: the parent container is re-sent with a ``set``."""
        parent, key = self._parent(path)
        del parent[key]
        self._core.emit_state(
            {"type": "set", "path": wire_path(path[:-1]), "value": copy_json_value(parent)}
        )


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
        return self._wrap(key, container[_resolve_key(container, key)])

    def __setitem__(self, key: PathKey, value: Any) -> None:
        self._store._core.state_call(self._store.set, (*self._path, key), value)

    def __delitem__(self, key: PathKey) -> None:
        self._store._core.state_call(self._store.delete, (*self._path, key))

    def get(self, key: PathKey, default: Any = None) -> Any:
        container = self._store.get(self._path)
        try:
            return self._wrap(key, container[_resolve_key(container, key)])
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
