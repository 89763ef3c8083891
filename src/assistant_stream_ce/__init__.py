"""assistant-stream-ce: stream an AI assistant's work from Python to any frontend protocol.

>>> from assistant_stream_ce import create_run
>>> from assistant_stream_ce.serialization.data_stream import DataStreamResponse
"""

from importlib.util import find_spec as _find_spec
from typing import TYPE_CHECKING, Any

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

# LangGraph helpers need langchain-core (extra [langgraph]). They are imported on first use:
# importing this package never pulls in langchain-core (hundreds of modules, a bigger heap for
# every garbage collection) for an app that does not stream graphs.
_LANGGRAPH_NAMES = ("append_langgraph_event", "get_tool_call_subgraph_state", "stream_graph")
if TYPE_CHECKING:
    from .modules.langgraph import append_langgraph_event as append_langgraph_event
    from .modules.langgraph import get_tool_call_subgraph_state as get_tool_call_subgraph_state
    from .modules.langgraph import stream_graph as stream_graph


def _has_langchain_core() -> bool:
    try:
        return _find_spec("langchain_core") is not None
    except (ImportError, ValueError):  # blocked (`sys.modules[name] = None`) or broken
        return False


if _has_langchain_core():
    __all__ += list(_LANGGRAPH_NAMES)


def __getattr__(name: str) -> Any:
    if name in _LANGGRAPH_NAMES:
        try:
            from .modules import langgraph
        except ModuleNotFoundError as exc:
            if not (exc.name or "").startswith("langchain_core"):
                raise
            raise AttributeError(
                f"{name} needs langchain-core: pip install 'assistant-stream-ce[langgraph]'"
            ) from exc
        value = getattr(langgraph, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
