"""Finish reasons: our vocabulary and the one table that maps it to and from every wire spelling.

Ours (the assistant-ui / AI SDK spelling): ``stop``, ``length``, ``content-filter``,
``tool-calls``, ``error``, ``other`` and ``unknown``. OpenAI-style protocols (OpenAI chat
completions, RAIS metadata) write them with underscores; Anthropic has its own stop reasons.
"""

from __future__ import annotations

__all__ = ["FINISH_REASONS", "from_wire_finish_reason", "to_wire_finish_reason"]

#: Every finish reason a step may report.
FINISH_REASONS = ("stop", "length", "content-filter", "tool-calls", "error", "other", "unknown")

# Ours -> the OpenAI (and RAIS) spelling.
_TO_WIRE = {
    "stop": "stop",
    "length": "length",
    "tool-calls": "tool_calls",
    "content-filter": "content_filter",
}

# Any provider's or protocol's spelling -> ours.
_FROM_WIRE = {
    **{wire: ours for ours, wire in _TO_WIRE.items()},
    # OpenAI Chat Completions (legacy function calling)
    "function_call": "tool-calls",
    # Anthropic Messages
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool-calls",
    "refusal": "content-filter",
}


def from_wire_finish_reason(reason: str | None, unknown: str = "other") -> str:
    """Our finish reason for a provider's or protocol's (``None`` → ``unknown``; a reason
    that is not in the table → ``unknown``, ``other`` by default)."""
    if reason is None:
        return "unknown"
    return _FROM_WIRE.get(reason, unknown)


def to_wire_finish_reason(reason: str, unknown: str | None = None) -> str:
    """The OpenAI-style spelling of our ``reason``; a reason OpenAI has no word for becomes
    ``unknown`` (or stays as it is when ``unknown`` is None)."""
    wire = _TO_WIRE.get(reason)
    if wire is not None:
        return wire
    return reason if unknown is None else unknown
