"""Run state: a JSON-like value kept locally and mirrored to the client as operations.

``controller.state`` returns a `StateProxy`. Assignments through it emit ``set`` operations at
their path, ``+=`` on a string emits ``append-text``; reads return current values (containers
come back as proxies so that nested assignments know their path). An operation costs about the
length of its path: the state is updated in place, never copied around the change.

Values assigned into the state are copied (containers only) so that later in-place changes made
through the proxy can never alter an operation that is still waiting to be sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, Union

from ._json import dumps
from .assistant_stream_chunk import ObjectStreamOperation
from .errors import SerializationError

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
        if node.__class__ is dict and key.__class__ is str:  # the common case, inline
            child = node.get(key)
        else:
            key = _child_key(node, key, False)
            child = node[key] if isinstance(node, list) else node.get(key)
        if child is None:
            child = {}
            node[key] = child
        node = child
    key = path[-1]
    if node.__class__ is not dict or key.__class__ is not str:
        key = _child_key(node, key, True)
    if kind == "append-text":
        if isinstance(node, list):
            current = node[key] if key < len(node) else None
        else:
            current = node.get(key)
        if current is not None and not isinstance(current, str):
            raise StateOperationError("append-text on a value that is not a string")
        if current:
            # Drop the container's reference first: with `current` the only one left, CPython
            # grows the string in place, so a string appended to N times costs O(N), not O(N²).
            node[key] = None
            current += value
            value = current
            del current
    if isinstance(node, list) and key == len(node):
        node.append(value)
    else:
        node[key] = value
    return root


def _is_plain(value: Any) -> bool:
    """Whether ``value`` is a scalar that always has a JSON form."""
    cls = value.__class__
    return cls is str or cls is int or cls is bool or value is None


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
        wire, _, _, current = self._locate(path)
        return wire, current

    def _locate(self, path: tuple[PathKey, ...]) -> tuple[list[str], Any, Any, Any]:
        """One walk down ``path``: its canonical form, the container holding its last segment
        and that segment's key there (None, None when a container on the way is missing), and
        the value now at it (None when there is none)."""
        node = self.data
        parent: Any = None
        slot: Any = None
        wire: list[str] = []
        for key in path:
            parent = node
            if node.__class__ is dict and key.__class__ is str:  # the common case, inline
                wire.append(key)
                slot = key
                node = node.get(key)
                continue
            segment = _canonical_key(node, key) if isinstance(node, (dict, list)) else str(key)
            wire.append(segment)
            if isinstance(node, list):
                slot = int(segment)
                node = node[slot] if slot < len(node) else None
            elif isinstance(node, dict):
                slot = segment
                node = node.get(segment)
            else:
                parent = slot = node = None
        return wire, parent, slot, node

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
        wire, parent, slot, current = self._locate(path)
        if (
            wire
            and value.__class__ is str
            and current.__class__ is str
            and len(value) > len(current)
            and value.startswith(current)
        ):
            # The common streaming case: a string grows. The state takes the new string as it
            # is (it is immutable), the client gets only what was added.
            parent[slot] = value
            self._core.emit_state(
                {"type": "append-text", "path": wire, "value": value[len(current) :]}
            )
            return
        cls = value.__class__
        if (
            (cls is str or cls is int or cls is bool or value is None)
            and parent is not None
            and (parent.__class__ is dict or slot < len(parent))
        ):
            # An immutable JSON scalar into a container that exists: nothing to copy, check
            # or create on the way.
            parent[slot] = value
            self._core.emit_state({"type": "set", "path": wire, "value": value})
            return
        try:
            if cls is str or cls is int or cls is bool or value is None:
                snapshot = value  # immutable and always JSON: nothing to copy or check
            else:
                snapshot = copy_json_value(value)  # later changes never reach the client
                if not _is_plain(snapshot):
                    dumps(snapshot, "update-state")
        except (SerializationError, RecursionError):
            # Refused: the state stays as it was here and on every client. The operation still
            # goes to the encoders, which report it as the protocol's error (when the protocol
            # carries state at all) and send the rest of its batch.
            self._core.emit_state({"type": "set", "path": wire, "value": value})
            return
        self._apply({"type": "set", "path": wire, "value": snapshot})

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
        del current  # the state's own reference must be the only one (see apply_operation)
        self._apply({"type": "append-text", "path": wire, "value": text})

    def delete(self, path: tuple[PathKey, ...]) -> None:
        """Remove the entry at ``path``: the parent container is re-sent with a ``set``."""
        wire, _ = self._wire_path(path)
        parent = self.get(path[:-1])
        key = wire[-1]
        del parent[int(key) if isinstance(parent, list) else key]
        self._core.emit_state({"type": "set", "path": wire[:-1], "value": copy_json_value(parent)})


class _StateCalls(Protocol):
    def state_call(self, function: Callable[..., None], *args: Any) -> None: ...


class StateHost(Protocol):
    """What a `StateProxy` reads from and writes through (a run's store or a `StateDraft`)."""

    @property
    def _core(self) -> _StateCalls: ...

    def get(self, path: tuple[PathKey, ...]) -> Any: ...

    def set(self, path: tuple[PathKey, ...], value: Any) -> None: ...

    def delete(self, path: tuple[PathKey, ...]) -> None: ...


class StateProxy:
    """A live view of one container inside the run state.

    Supports the dict and list operations that map to state operations: item get/set/delete,
    ``get``, ``setdefault``, ``update``, ``append``, ``extend``, ``+=``, ``len``, ``in``,
    iteration and equality. ``keys()``/``values()``/``items()`` return plain current values.
    """

    __slots__ = ("_path", "_store")

    def __init__(self, store: StateHost, path: tuple[PathKey, ...] = ()) -> None:
        self._store = store
        self._path = path

    @property
    def _manager(self) -> StateHost:
        """The store this proxy writes through (the name 0.0.36 used)."""
        return self._store

    def _assistant_stream_value_(self) -> Any:
        return self._store.get(self._path)

    def _wrap(self, key: PathKey, value: Any) -> Any:
        if isinstance(value, (dict, list)):
            return StateProxy(self._store, (*self._path, key))
        return value

    def __getitem__(self, key: PathKey) -> Any:
        container = self._store.get(self._path)
        if container.__class__ is dict:
            value = container[key]
        else:
            value = container[_lookup_key(container, key)]
        if value.__class__ is dict or value.__class__ is list or isinstance(value, (dict, list)):
            return StateProxy(self._store, (*self._path, key))
        return value

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
        # a snapshot first: `state["l"] += state["l"]` must not chase its own appends
        items = copy_json_value(values) if isinstance(values, StateProxy) else list(values)
        for value in items:
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

    def __str__(self) -> str:
        return str(self._store.get(self._path))

    def __getattr__(self, name: str) -> Any:
        """Read-only methods of the value itself (``copy``, ``index``, ``count``, ...)."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._store.get(self._path), name)

    def __add__(self, other: Any) -> Any:
        """``proxy + [...]``: a plain list (nothing is written)."""
        value = self._store.get(self._path)
        if isinstance(value, list):
            return [*value, *other]
        return NotImplemented

    def clear(self) -> None:
        """Empty this list or dict (one ``set`` of an empty container)."""
        value = self._store.get(self._path)
        if not isinstance(value, (list, dict)):
            raise TypeError(f"clear() needs a list or dict, the state holds {type(value).__name__}")
        self._store._core.state_call(
            self._store.set, self._path, [] if isinstance(value, list) else {}
        )

    # Reordering or removing list items has no small operation: assign the new list instead.
    def insert(self, index: int, item: Any) -> NoReturn:
        """Not supported: use indexing or `append`."""
        raise NotImplementedError("insert() is not supported on state; use append() or indexing")

    def pop(self, *args: Any) -> NoReturn:
        """Not supported: assign the new container instead."""
        raise NotImplementedError("pop() is not supported on state; assign the new value")

    def popitem(self) -> NoReturn:
        """Not supported: assign the new dict instead."""
        raise NotImplementedError("popitem() is not supported on state; assign the new value")

    def remove(self, item: Any) -> NoReturn:
        """Not supported: assign the new list instead."""
        raise NotImplementedError("remove() is not supported on state; assign the new list")

    def sort(self, *args: Any, **kwargs: Any) -> NoReturn:
        """Not supported: assign the sorted list instead."""
        raise NotImplementedError("sort() is not supported on state; assign the sorted list")

    def reverse(self) -> NoReturn:
        """Not supported: assign the reversed list instead."""
        raise NotImplementedError("reverse() is not supported on state; assign the new list")


# -- the 0.0.36 state API: an authoritative container, drafts over it, a batching flusher ------

__all__ += [
    "AssistantState",
    "Flusher",
    "StateDraft",
    "StateOpHost",
    "StateOperation",
    "StateProxyJSONEncoder",
    "deep_apply",
    "lookup_state",
]

StateOperation = ObjectStreamOperation


def _list_index(container: list[Any], key: Any, *, allow_end: bool) -> int:
    try:
        index = int(key)
    except (TypeError, ValueError):
        raise KeyError(key) from None
    limit = len(container) + 1 if allow_end else len(container)
    if not 0 <= index < limit:
        raise KeyError(key)
    return index


def lookup_state(state: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` (string segments; list indices in decimal).

    Raises KeyError when a segment does not exist.
    """
    node = state
    for key in path:
        if isinstance(node, list):
            node = node[_list_index(node, key, allow_end=False)]
        elif isinstance(node, dict):
            node = node[key]
        else:
            raise KeyError(key)
    return node


def deep_apply(target: Any, path: Sequence[str], op: StateOperation) -> Any:
    """``target`` with ``op`` applied at ``path``, copying the containers on the way.

    ``target`` itself is not changed. Missing dict entries are created; a list index equal to
    the list's length appends. ``append-text`` on a missing value sets it.
    """
    if not path:
        kind = op["type"]
        if kind == "set":
            return op["value"]
        if kind == "append-text":
            if target is None:
                return op["value"]
            if not isinstance(target, str):
                raise TypeError(
                    f"append-text at {list(op['path'])}: the value there is not a string"
                )
            return target + op["value"]
        raise TypeError(f"unknown state operation {kind!r}")
    key, rest = path[0], path[1:]
    if isinstance(target, list):
        index = _list_index(target, key, allow_end=True)
        copy = list(target)
        if index == len(copy):
            copy.append(deep_apply(None, rest, op))
        else:
            copy[index] = deep_apply(copy[index], rest, op)
        return copy
    base = target if isinstance(target, dict) else {}
    return {**base, key: deep_apply(base.get(key), rest, op)}


class StateOpHost(Protocol):
    """The 0.0.36 interface of a state host (implemented by `StateDraft` and `StateManager`)."""

    def get_value_at_path(self, path: list[str]) -> Any: ...

    def add_operations(self, operations: list[StateOperation]) -> None: ...

    def append_text(self, path: Sequence[PathKey], value: str) -> None: ...


class StateProxyJSONEncoder(json.JSONEncoder):
    """A `json.JSONEncoder` that writes a `StateProxy` as the value it shows."""

    def default(self, o: Any) -> Any:
        if isinstance(o, StateProxy):
            return o._assistant_stream_value_()
        return super().default(o)


class AssistantState:
    """An authoritative state value: applies operations (copy on write) and hands out drafts."""

    def __init__(self, initial_state: Any | None = None) -> None:
        self._state = initial_state

    @property
    def state(self) -> Any:
        """The current value."""
        return self._state

    def apply(self, operations: Sequence[StateOperation]) -> None:
        """Apply operations in order."""
        for op in operations:
            self._state = deep_apply(self._state, op["path"], op)

    def lookup(self, path: Sequence[str]) -> Any:
        """The value at ``path`` (KeyError if it does not exist)."""
        return lookup_state(self._state, path)

    def draft(self, on_operations: Callable[[list[StateOperation]], None]) -> StateProxy:
        """A proxy whose writes apply here and are passed to ``on_operations``."""
        return StateProxy(StateDraft(self, on_operations), ())


class _ImmediateCalls:
    """Drafts apply writes at once, in the calling thread."""

    __slots__ = ()

    def state_call(self, function: Callable[..., None], *args: Any) -> None:
        function(*args)


_IMMEDIATE = _ImmediateCalls()


def _reject_proxies(value: Any) -> None:
    if isinstance(value, StateProxy):
        raise ValueError("a StateProxy cannot be stored in the state; assign a plain value")
    if isinstance(value, dict):
        for item in value.values():
            _reject_proxies(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _reject_proxies(item)


class StateDraft:
    """Turns writes through a `StateProxy` into operations on an `AssistantState`.

    Assigning a string that extends the current non-empty string emits ``append-text``; any
    other assignment emits ``set``. Operations are applied to the state, then passed on.
    """

    __slots__ = ("_on_operations", "_state")

    def __init__(
        self, state: AssistantState, on_operations: Callable[[list[StateOperation]], None]
    ) -> None:
        self._state = state
        self._on_operations = on_operations

    @property
    def _core(self) -> _ImmediateCalls:
        return _IMMEDIATE

    # -- the 0.0.36 interface ------------------------------------------------------------

    def get_value_at_path(self, path: list[str]) -> Any:
        """The value at ``path`` (KeyError if it does not exist)."""
        return self._state.lookup(path)

    def add_operations(self, operations: list[StateOperation]) -> None:
        """Apply operations and pass them on (a proxy written back to its own path is a no-op).

        Raises ValueError if a ``set`` value contains a `StateProxy`.
        """
        operations = [op for op in operations if not self._is_writeback(op)]
        if not operations:
            return
        for op in operations:
            if op["type"] == "set":
                _reject_proxies(op["value"])
        self._state.apply(operations)
        self._on_operations(operations)

    def append_text(self, path: Sequence[PathKey], value: str) -> None:
        """Append ``value`` to the string at ``path`` (emits ``append-text``)."""
        if not isinstance(value, str):
            raise TypeError(f"append_text needs a str, not {type(value).__name__}")
        self.add_operations(
            [{"type": "append-text", "path": self._wire(tuple(path)), "value": value}]
        )

    def _is_writeback(self, op: StateOperation) -> bool:
        value = op["value"]
        return (
            op["type"] == "set"
            and isinstance(value, StateProxy)
            and value._store is self
            and self._wire(value._path) == list(op["path"])
        )

    # -- what a StateProxy calls -----------------------------------------------------------

    def _wire(self, path: tuple[PathKey, ...]) -> list[str]:
        """String segments, with negative list indices resolved against the current state."""
        node = self._state.state
        out: list[str] = []
        for key in path:
            if isinstance(node, list) and isinstance(key, int) and key < 0:
                key += len(node)
            out.append(str(key))
            if isinstance(node, list):
                index = int(key)
                node = node[index] if 0 <= index < len(node) else None
            elif isinstance(node, dict):
                node = node.get(key)
            else:
                node = None
        return out

    def get(self, path: tuple[PathKey, ...]) -> Any:
        """The value at ``path`` (KeyError if it does not exist)."""
        return lookup_state(self._state.state, self._wire(path))

    def set(self, path: tuple[PathKey, ...], value: Any) -> None:
        """Assign ``value`` at ``path``."""
        wire = self._wire(path)
        if isinstance(value, str):
            try:
                current = lookup_state(self._state.state, wire)
            except KeyError:
                current = None
            if isinstance(current, str) and current and value.startswith(current):
                delta = value[len(current) :]
                if delta:
                    self.add_operations([{"type": "append-text", "path": wire, "value": delta}])
                    return
        self.add_operations([{"type": "set", "path": wire, "value": value}])

    def delete(self, path: tuple[PathKey, ...]) -> None:
        """Remove the entry at ``path`` (the parent is re-sent with a ``set``)."""
        if not path:
            raise TypeError("cannot delete the whole state; assign None instead")
        wire = self._wire(path)
        parent = lookup_state(self._state.state, wire[:-1])
        if isinstance(parent, list):
            index = _list_index(parent, wire[-1], allow_end=False)
            value: Any = parent[:index] + parent[index + 1 :]
        elif isinstance(parent, dict):
            value = {key: item for key, item in parent.items() if key != wire[-1]}
            if len(value) == len(parent):
                raise KeyError(wire[-1])
        else:
            raise KeyError(wire[-1])
        self.add_operations([{"type": "set", "path": wire[:-1], "value": value}])


class Flusher:
    """Collects operations and emits them in batches.

    ``schedule`` (typically ``loop.call_soon_threadsafe``) is called once per batch to run
    `flush` later; without it, operations wait for an explicit `flush`. `add` may be called
    from any thread.
    """

    def __init__(
        self,
        emit: Callable[[list[StateOperation]], None],
        schedule: Callable[[Callable[[], None]], Any] | None = None,
    ) -> None:
        self._emit = emit
        self._schedule = schedule
        self._lock = threading.Lock()
        self._pending: list[StateOperation] = []
        self._scheduled = False

    def add(self, operations: Sequence[StateOperation]) -> None:
        """Queue operations for the next batch."""
        with self._lock:
            self._pending.extend(operations)
            if self._schedule is None or self._scheduled:
                return
            self._scheduled = True
        self._schedule(self.flush)

    def flush(self) -> None:
        """Emit the queued operations now (nothing if none are queued)."""
        with self._lock:
            operations, self._pending = self._pending, []
            self._scheduled = False
        if operations:
            self._emit(operations)
