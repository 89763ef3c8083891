"""RAIS (React AI Stream) for Python: stream a model's answer to react-ai-stream's ``useAIChat``.

>>> from rais import rais_event
>>> rais_event({"type": "text", "text": "Hello"})
'data: {"type": "text", "text": "Hello"}\\n\\n'

- `stream_response` streams an OpenAI, Anthropic or offline model's answer as RAIS SSE strings
  for FastAPI's ``StreamingResponse``.
- `stream_run` does the same for any `assistant_stream_ce.create_run` run.
- `websocket_endpoint` / `serve_websocket` serve the optional WebSocket transport.
- `rais_event` encodes one event by hand.

Shipped with ``assistant-stream-ce``; unrelated to the PyPI distribution named ``rais`` (do not
install both: they share the import name).
"""

from ._events import rais_event
from ._stream import stream_response, stream_run
from ._websocket import EventSource, serve_websocket, websocket_endpoint

__all__ = [
    "EventSource",
    "rais_event",
    "serve_websocket",
    "stream_response",
    "stream_run",
    "websocket_endpoint",
]
