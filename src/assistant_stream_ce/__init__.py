"""assistant-stream-ce: stream an AI assistant's work from Python to any frontend protocol.

>>> from assistant_stream_ce import create_run
>>> from assistant_stream_ce.serialization.data_stream import DataStreamResponse
"""

from .accumulator import Message, MessageAccumulator, accumulate, accumulate_stream
from .assistant_stream_chunk import (
    AnnotationsChunk,
    AssistantStreamChunk,
    DataChunk,
    ErrorChunk,
    FileChunk,
    ReasoningDeltaChunk,
    ReasoningPartStartChunk,
    SourceChunk,
    StepFinishChunk,
    StepStartChunk,
    TextDeltaChunk,
    ToolApprovalRequestChunk,
    ToolCallArgsTextFinishChunk,
    ToolCallBeginChunk,
    ToolCallDeltaChunk,
    ToolOutputDeniedChunk,
    ToolResultChunk,
    UpdateStateChunk,
)
from .create_run import RunController, RunStream, create_run
from .errors import (
    DecodeError,
    InvalidMessagesError,
    MissingAPIKeyError,
    ProviderConfigError,
    ProviderError,
    ProviderNotInstalledError,
    SerializationError,
    StreamError,
    UnknownProviderError,
)
from .modules.tool_call import ToolCallController
from .serialization.assistant_stream_response import AssistantStreamResponse
from .serialization.assistant_transport import AssistantTransportResponse
from .serialization.data_stream import DataStreamResponse
from .serialization.openai_stream import OpenAIStreamResponse
from .serialization.rais import RAISResponse
from .serialization.ui_message_stream import UIMessageStreamResponse

__version__ = "0.1.0"

__all__ = [
    "AnnotationsChunk",
    "AssistantStreamChunk",
    "AssistantStreamResponse",
    "AssistantTransportResponse",
    "DataChunk",
    "DataStreamResponse",
    "DecodeError",
    "ErrorChunk",
    "FileChunk",
    "InvalidMessagesError",
    "Message",
    "MessageAccumulator",
    "MissingAPIKeyError",
    "OpenAIStreamResponse",
    "ProviderConfigError",
    "ProviderError",
    "ProviderNotInstalledError",
    "RAISResponse",
    "ReasoningDeltaChunk",
    "ReasoningPartStartChunk",
    "RunController",
    "RunStream",
    "SerializationError",
    "SourceChunk",
    "StepFinishChunk",
    "StepStartChunk",
    "StreamError",
    "TextDeltaChunk",
    "ToolApprovalRequestChunk",
    "ToolCallArgsTextFinishChunk",
    "ToolCallBeginChunk",
    "ToolCallController",
    "ToolCallDeltaChunk",
    "ToolOutputDeniedChunk",
    "ToolResultChunk",
    "UIMessageStreamResponse",
    "UnknownProviderError",
    "UpdateStateChunk",
    "__version__",
    "accumulate",
    "accumulate_stream",
    "create_run",
]

try:  # LangGraph helpers need langchain-core (extra [langgraph])
    from .modules.langgraph import (
        append_langgraph_event,
        get_tool_call_subgraph_state,
        stream_graph,
    )
except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
    if not (exc.name or "").startswith("langchain_core"):
        raise
else:
    __all__ += ["append_langgraph_event", "get_tool_call_subgraph_state", "stream_graph"]
