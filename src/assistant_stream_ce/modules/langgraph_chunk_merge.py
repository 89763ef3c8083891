"""Kept for its 0.0.36 import path: that module held no code, only these imports.

Message chunks are merged by `assistant_stream_ce.modules.langgraph.append_langgraph_event`.
"""

from __future__ import annotations

from langchain_core.messages.base import BaseMessage, message_to_dict

from ..create_run import RunController

__all__ = ["BaseMessage", "RunController", "message_to_dict"]
