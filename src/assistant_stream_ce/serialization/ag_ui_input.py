"""What an AG-UI client POSTs: ``RunAgentInput`` as pydantic v2 models, and its conversion.

``@ag-ui/client``'s ``HttpAgent`` sends ``{threadId, runId, protocolVersion, state, messages,
tools, context, forwardedProps, resume?}``. `RunAgentInput` validates it (camelCase on the wire,
snake_case in Python, unknown keys kept) and `RunAgentInput.provider_messages` turns the
history into the OpenAI-style list the providers take::

    from fastapi import FastAPI
    from assistant_stream_ce import create_run
    from assistant_stream_ce.providers import run_provider
    from assistant_stream_ce.serialization.ag_ui import AGUIResponse
    from assistant_stream_ce.serialization.ag_ui_input import RunAgentInput

    app = FastAPI()

    @app.post("/agent")
    async def agent(input: RunAgentInput) -> AGUIResponse:
        async def run(controller):
            await run_provider(controller, input.provider_messages(), provider="offline")

        return AGUIResponse(create_run(run, state=input.state), input=input)

A malformed body is then a 422 whose ``detail`` names the field (``["body", "messages", 0,
"tool", "toolCallId"]``). Needs pydantic v2 (installed with FastAPI).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, Union

try:
    from pydantic import BaseModel, ConfigDict, Field
    from pydantic.alias_generators import to_camel
except ImportError as exc:  # pragma: no cover - pydantic comes with FastAPI
    raise ImportError(
        "assistant_stream_ce.serialization.ag_ui_input needs pydantic v2: "
        'pip install "pydantic>=2" (or "assistant-stream-ce[server]")'
    ) from exc

__all__ = [
    "ActivityMessage",
    "AssistantMessage",
    "AudioPart",
    "Context",
    "DataSource",
    "DeveloperMessage",
    "DocumentPart",
    "FileSource",
    "FunctionCall",
    "ImagePart",
    "Message",
    "ReasoningMessage",
    "ResumeEntry",
    "RunAgentInput",
    "SystemMessage",
    "TextPart",
    "Tool",
    "ToolCall",
    "ToolMessage",
    "UrlSource",
    "UserMessage",
    "VideoPart",
    "to_provider_messages",
]

logger = logging.getLogger("assistant_stream_ce.serialization")


class _Model(BaseModel):
    """camelCase on the wire, snake_case in Python, unknown keys kept."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


# -- content parts ---------------------------------------------------------------------------


class DataSource(_Model):
    """Inline base64 data."""

    type: Literal["data"]
    value: str
    mime_type: str


class UrlSource(_Model):
    """A URL (``https:`` or ``data:``)."""

    type: Literal["url"]
    value: str
    mime_type: str | None = None


class FileSource(_Model):
    """A file held by a provider (its id)."""

    type: Literal["file"]
    value: str
    provider: str | None = None
    mime_type: str | None = None


Source = Annotated[Union[DataSource, UrlSource, FileSource], Field(discriminator="type")]


class TextPart(_Model):
    type: Literal["text"]
    text: str
    id: str | None = None


class ImagePart(_Model):
    type: Literal["image"]
    source: Source
    id: str | None = None


class AudioPart(_Model):
    type: Literal["audio"]
    source: Source
    id: str | None = None


class VideoPart(_Model):
    type: Literal["video"]
    source: Source
    id: str | None = None


class DocumentPart(_Model):
    type: Literal["document"]
    source: Source
    id: str | None = None


ContentPart = Annotated[
    Union[TextPart, ImagePart, AudioPart, VideoPart, DocumentPart], Field(discriminator="type")
]

# -- messages --------------------------------------------------------------------------------


class FunctionCall(_Model):
    name: str
    #: The arguments as a JSON string.
    arguments: str


class ToolCall(_Model):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class DeveloperMessage(_Model):
    id: str
    role: Literal["developer"]
    content: str
    name: str | None = None


class SystemMessage(_Model):
    id: str
    role: Literal["system"]
    content: str
    name: str | None = None


class AssistantMessage(_Model):
    id: str
    role: Literal["assistant"]
    content: str | None = None
    tool_calls: list[ToolCall] | None = None
    name: str | None = None


class UserMessage(_Model):
    id: str
    role: Literal["user"]
    content: Union[str, list[ContentPart]]
    name: str | None = None


class ToolMessage(_Model):
    id: str
    role: Literal["tool"]
    #: The result, usually a JSON string.
    content: Union[str, list[ContentPart]]
    tool_call_id: str
    error: str | None = None


class ActivityMessage(_Model):
    id: str
    role: Literal["activity"]
    activity_type: str
    content: dict[str, Any]


class ReasoningMessage(_Model):
    id: str
    role: Literal["reasoning"]
    content: str


Message = Annotated[
    Union[
        DeveloperMessage,
        SystemMessage,
        AssistantMessage,
        UserMessage,
        ToolMessage,
        ActivityMessage,
        ReasoningMessage,
    ],
    Field(discriminator="role"),
]

# -- the input -------------------------------------------------------------------------------


class Tool(_Model):
    """A frontend tool the agent may call (the client runs it)."""

    name: str
    description: str
    #: JSON Schema of the arguments.
    parameters: Any = None


class Context(_Model):
    description: str
    value: str


class ResumeEntry(_Model):
    """The answer to an interrupt."""

    interrupt_id: str
    status: Literal["resolved", "cancelled"]
    payload: Any = None


class RunAgentInput(_Model):
    """The body of an AG-UI run request."""

    thread_id: str
    run_id: str
    protocol_version: str | None = None
    parent_run_id: str | None = None
    #: The client's current state (the run's initial state).
    state: Any = None
    messages: list[Message]
    tools: list[Tool] = Field(default_factory=list)
    context: list[Context] = Field(default_factory=list)
    forwarded_props: Any = None
    resume: list[ResumeEntry] | None = None

    def provider_messages(self, *, include_context: bool = True) -> list[dict[str, Any]]:
        """The history as OpenAI-style messages (see `to_provider_messages`); with
        ``include_context`` the ``context`` entries lead as one system message."""
        messages = to_provider_messages(self.messages)
        if include_context and self.context:
            text = "\n\n".join(f"{item.description}:\n{item.value}" for item in self.context)
            messages.insert(0, {"role": "system", "content": text})
        return messages

    def provider_tools(self) -> list[dict[str, Any]]:
        """The frontend tools as OpenAI function tools (``run_provider(tools=...)``)."""
        return [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.description,
                    "parameters": tool.parameters
                    if isinstance(tool.parameters, dict)
                    else {"type": "object", "properties": {}},
                },
            }
            for tool in self.tools
        ]


# -- conversion ------------------------------------------------------------------------------


def _source_url(source: DataSource | UrlSource | FileSource) -> str | None:
    if isinstance(source, DataSource):
        return f"data:{source.mime_type};base64,{source.value}"
    if isinstance(source, UrlSource):
        return source.value
    return None


def _content_parts(parts: list[Any], where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            out.append({"type": "text", "text": part.text})
            continue
        url = _source_url(part.source) if isinstance(part, ImagePart) else None
        if url is not None:
            out.append({"type": "image_url", "image_url": {"url": url}})
        else:
            logger.warning("ag-ui input: %s: a %s part was skipped", where, part.type)
    return out


def _text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def to_provider_messages(messages: list[Any]) -> list[dict[str, Any]]:
    """AG-UI messages as the OpenAI-style messages the providers take.

    Developer, system, user, assistant (``tool_calls`` with JSON-string arguments) and tool
    messages (``tool_call_id``; an ``error`` becomes the content when there is none, else is
    appended) map one to one; user images become ``image_url`` parts (other media are skipped
    with a warning); activity and reasoning messages are UI-only and left out.
    """
    out: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        where = f"messages[{index}]"
        if isinstance(message, (DeveloperMessage, SystemMessage)):
            out.append({"role": message.role, "content": message.content})
        elif isinstance(message, UserMessage):
            content = message.content
            if isinstance(content, str):
                out.append({"role": "user", "content": content})
            else:
                out.append({"role": "user", "content": _content_parts(content, where)})
        elif isinstance(message, AssistantMessage):
            converted: dict[str, Any] = {"role": "assistant", "content": message.content}
            if message.tool_calls:
                converted["tool_calls"] = [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {
                            "name": call.function.name,
                            "arguments": call.function.arguments,
                        },
                    }
                    for call in message.tool_calls
                ]
            elif converted["content"] is None:
                converted["content"] = ""
            out.append(converted)
        elif isinstance(message, ToolMessage):
            text = _text(message.content)
            if message.error:
                text = f"{text}\n\nError: {message.error}" if text else message.error
            out.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": text})
    return out
