"""Wire protocols: an encoder, a decoder and a Starlette response class per protocol.

`PROTOCOLS` maps each protocol's name to its `ProtocolInfo` (classes, media type, what it
carries); every protocol module registers itself when imported.
"""

# Protocol modules register themselves on import, in this order (the order lists show).
from . import data_stream, assistant_transport, openai_stream, rais  # noqa: I001
from . import ui_message_stream, ag_ui
from .ag_ui import AGUIDecoder, AGUIEncoder, AGUIResponse
from .assistant_stream_response import AssistantStreamResponse
from .assistant_transport import (
    AssistantTransportDecoder,
    AssistantTransportEncoder,
    AssistantTransportResponse,
)
from .data_stream import DataStreamDecoder, DataStreamEncoder, DataStreamResponse
from .decoding import StreamDecoder
from .openai_stream import OpenAIStreamDecoder, OpenAIStreamEncoder, OpenAIStreamResponse
from .rais import RAISDecoder, RAISEncoder, RAISResponse
from .registry import (
    PROTOCOLS,
    ProtocolInfo,
    detect_protocol,
    get_protocol,
    register_protocol,
    unregister_protocol,
)
from .stream_encoder import StreamEncoder
from .ui_message_stream import (
    UIMessageStreamDecoder,
    UIMessageStreamEncoder,
    UIMessageStreamResponse,
)

del data_stream, assistant_transport, openai_stream, rais, ui_message_stream, ag_ui

__all__ = [
    "PROTOCOLS",
    "AGUIDecoder",
    "AGUIEncoder",
    "AGUIResponse",
    "AssistantStreamResponse",
    "AssistantTransportDecoder",
    "AssistantTransportEncoder",
    "AssistantTransportResponse",
    "DataStreamDecoder",
    "DataStreamEncoder",
    "DataStreamResponse",
    "OpenAIStreamDecoder",
    "OpenAIStreamEncoder",
    "OpenAIStreamResponse",
    "ProtocolInfo",
    "RAISDecoder",
    "RAISEncoder",
    "RAISResponse",
    "StreamDecoder",
    "StreamEncoder",
    "UIMessageStreamDecoder",
    "UIMessageStreamEncoder",
    "UIMessageStreamResponse",
    "detect_protocol",
    "get_protocol",
    "register_protocol",
    "unregister_protocol",
]
