"""JSON encoding shared by every encoder: orjson on the fast path, safe fallbacks off it.

Rules:
- Output is always valid, single-line JSON (no raw line breaks, no NaN/Infinity).
- Lone surrogates in strings are written as ``\\udXXX`` escapes (lossless; orjson rejects them).
- A value with no lossless JSON form raises `SerializationError` naming the offending type.
- Conventions: set/frozenset → list, Decimal → string, pydantic models → their JSON dump,
  `os.PathLike` → string, datetime/date/UUID/enum/dataclass as orjson writes them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from decimal import Decimal
from typing import Any

import orjson

from .errors import SerializationError

_OPTIONS = orjson.OPT_NON_STR_KEYS
_orjson_dumps = orjson.dumps
_JSONEncodeError = orjson.JSONEncodeError

# U+0085, U+2028 and U+2029 are legal inside JSON strings but `str.splitlines()` (and some
# line-oriented readers) treat them as line ends; escape them so no reader can split a frame.
_LINE_SEPARATORS = (
    (b"\xc2\x85", b"\\u0085"),
    (b"\xe2\x80\xa8", b"\\u2028"),
    (b"\xe2\x80\xa9", b"\\u2029"),
)


def escape_line_separators(data: bytes) -> bytes:
    """Replace raw U+0085/U+2028/U+2029 in encoded JSON by their ``\\u`` escapes."""
    if data.isascii():
        return data
    for raw, escaped in _LINE_SEPARATORS:
        if raw in data:
            data = data.replace(raw, escaped)
    return data


def _default(value: Any) -> Any:
    unwrap = getattr(value, "_assistant_stream_value_", None)
    if unwrap is not None:
        return unwrap()
    if isinstance(value, (set, frozenset)):
        items = list(value)
        with contextlib.suppress(TypeError):
            items.sort()
        return items
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise TypeError("non-finite Decimal")
        return str(value)
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump(mode="json")
    raise TypeError(type(value).__name__)


def _find_non_finite(value: Any, depth: int = 0) -> float | None:
    if depth > 200:
        return None
    if isinstance(value, float):
        return value if not math.isfinite(value) else None
    if isinstance(value, dict):
        for item in value.values():
            found = _find_non_finite(item, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = _find_non_finite(item, depth + 1)
            if found is not None:
                return found
    return None


def _python_type_name(value: Any) -> str:
    """Name the first value in ``value`` that has no JSON form, for error messages."""
    try:
        json.dumps(value, default=_default, allow_nan=False)
    except RecursionError:
        return f"{type(value).__name__} (nested too deep)"
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "is not JSON serializable" in text:
            return text.split("Object of type ", 1)[-1].split(" is not", 1)[0]
        return text
    return type(value).__name__


#: How deep a value may nest (orjson's limit): deeper values have no JSON form here.
MAX_DEPTH = 254


def dumps(value: Any, chunk_type: str = "value") -> bytes:
    """Encode ``value`` as compact, single-line JSON bytes or raise `SerializationError`."""
    try:
        data = _orjson_dumps(value, default=_default, option=_OPTIONS)
    except _JSONEncodeError as exc:
        text = str(exc)
        if "surrogates not allowed" in text:
            return _dumps_with_escapes(value, chunk_type)
        if "Recursion limit" in text:
            raise SerializationError(
                chunk_type, type(value).__name__, f"nested more than {MAX_DEPTH} levels deep"
            ) from None
        raise SerializationError(chunk_type, _python_type_name(value)) from None
    if b"null" in data:
        bad = _find_non_finite(value)
        if bad is not None:
            raise SerializationError(chunk_type, f"float ({bad!r})", "not valid JSON")
    return data if data.isascii() else escape_line_separators(data)


def _dumps_with_escapes(value: Any, chunk_type: str) -> bytes:
    try:
        text = json.dumps(
            value, default=_default, allow_nan=False, ensure_ascii=True, separators=(",", ":")
        )
    except ValueError:
        bad = _find_non_finite(value)
        raise SerializationError(chunk_type, f"float ({bad!r})", "not valid JSON") from None
    except TypeError:
        raise SerializationError(chunk_type, _python_type_name(value)) from None
    except RecursionError:
        raise SerializationError(
            chunk_type, type(value).__name__, f"nested more than {MAX_DEPTH} levels deep"
        ) from None
    return text.encode("ascii")


def dumps_text(text: str) -> bytes:
    """Encode a string as a JSON string literal (lone surrogates and line separators escaped).

    Raises `SerializationError` for anything but a string.
    """
    if text.__class__ is not str and not isinstance(text, str):
        raise SerializationError("text", type(text).__name__, "a delta must be a string")
    try:
        data = _orjson_dumps(text)
    except _JSONEncodeError:
        if not isinstance(text, str):
            raise SerializationError("text", type(text).__name__) from None
        return json.dumps(text).encode("ascii")
    return data if data.isascii() else escape_line_separators(data)
