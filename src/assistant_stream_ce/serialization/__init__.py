"""Wire protocols: an encoder and a Starlette response class per protocol."""

from .assistant_stream_response import AssistantStreamResponse
from .assistant_transport import AssistantTransportEncoder, AssistantTransportResponse
from .data_stream import DataStreamEncoder, DataStreamResponse
from .openai_stream import OpenAIStreamEncoder, OpenAIStreamResponse
from .rais import RAISDecoder, RAISEncoder, RAISResponse
from .stream_encoder import StreamEncoder

__all__ = [
    "AssistantStreamResponse",
    "AssistantTransportEncoder",
    "AssistantTransportResponse",
    "DataStreamEncoder",
    "DataStreamResponse",
    "OpenAIStreamEncoder",
    "OpenAIStreamResponse",
    "RAISDecoder",
    "RAISEncoder",
    "RAISResponse",
    "StreamEncoder",
]
