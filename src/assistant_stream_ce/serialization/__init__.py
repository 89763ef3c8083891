"""Wire protocols: an encoder, a Starlette response class and a decoder per protocol."""

from .assistant_stream_response import AssistantStreamResponse
from .assistant_transport import (
    AssistantTransportDecoder,
    AssistantTransportEncoder,
    AssistantTransportResponse,
)
from .data_stream import DataStreamDecoder, DataStreamEncoder, DataStreamResponse
from .openai_stream import OpenAIStreamDecoder, OpenAIStreamEncoder, OpenAIStreamResponse
from .rais import RAISDecoder, RAISEncoder, RAISResponse
from .stream_encoder import StreamEncoder

__all__ = [
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
    "RAISDecoder",
    "RAISEncoder",
    "RAISResponse",
    "StreamEncoder",
]
