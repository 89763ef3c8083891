"""`rais_event`: one RAIS event as SSE text, exactly as the reference helper writes it."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["rais_event"]


def rais_event(data: dict[str, Any]) -> str:
    """Encode ``data`` as one RAIS SSE event: ``'data: ' + json.dumps(data) + '\\n\\n'``.

    >>> rais_event({"type": "text", "text": "Hello"})
    'data: {"type": "text", "text": "Hello"}\\n\\n'

    Standard-library ``json.dumps`` with its defaults (``", "``/``": "`` separators, ASCII
    escapes), so the output is byte-identical to the reference package's.
    """
    return "data: " + json.dumps(data) + "\n\n"
