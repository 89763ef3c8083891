"""`StateProxy` at the module path 0.0.36 had (the class lives in `state`)."""

from __future__ import annotations

from .state import StateProxy as BaseStateProxy

__all__ = ["BaseStateProxy", "StateProxy"]


class StateProxy(BaseStateProxy):
    """A live view of a container in the state; see `assistant_stream_ce.state.StateProxy`."""

    __slots__ = ()
