"""The protocol registry: every wire protocol, by name, with what it takes to speak it.

Each protocol module registers one `ProtocolInfo` when it is imported (the package imports them
all). The demo server and page, the command-line tools and the tests read `PROTOCOLS` instead of
naming protocols, so adding a protocol means writing its module and one `register_protocol`
call::

    register_protocol(ProtocolInfo(
        name="my-protocol", label="My protocol", description="what reads it",
        encoder=MyEncoder, decoder=MyDecoder, response=MyResponse,
    ))
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .assistant_stream_response import AssistantStreamResponse
    from .decoding import StreamDecoder
    from .stream_encoder import StreamEncoder

__all__ = [
    "CAPABILITIES",
    "PROTOCOLS",
    "ProtocolInfo",
    "detect_protocol",
    "get_protocol",
    "register_protocol",
    "unregister_protocol",
]

#: What a protocol can carry (``ProtocolInfo.carries``). ``steps``: step boundaries with their
#: message ids and finish reasons; ``usage``: token counts (at least summed over the steps).
CAPABILITIES = frozenset(
    {
        "text",
        "reasoning",
        "tool-calls",
        "tool-results",
        "sources",
        "files",
        "data",
        "state",
        "steps",
        "usage",
        "errors",
    }
)


@dataclass(frozen=True)
class ProtocolInfo:
    """One wire protocol: its classes, its media type and what it can carry."""

    #: The registry key and the name the demo, the CLI and the tests use (``"data-stream"``).
    name: str
    #: A short human label (``"Data stream"``).
    label: str
    #: One line: what the protocol is and which clients read it.
    description: str
    #: The encoder class (chunks → frames); instantiable with no arguments.
    encoder: type[StreamEncoder]
    #: The decoder class (bytes → chunks); takes ``strict=`` like `StreamDecoder`.
    decoder: type[StreamDecoder]
    #: The Starlette response class; takes the run as its first argument.
    response: type[AssistantStreamResponse]
    #: What the protocol can carry (names from `CAPABILITIES`).
    carries: frozenset[str] = frozenset({"text", "errors"})
    #: Keyword arguments the demo server passes to ``response`` (e.g. to show every tool call).
    demo_options: Mapping[str, Any] = field(default_factory=dict)
    #: A response header (name, value) that only this protocol sends, if there is one.
    marker: tuple[str, str] | None = None
    #: Recognises a response body's first data frame (its parsed JSON) as this protocol, for
    #: auto-detection when neither the media type nor a marker header tells.
    sniff: Callable[[Any], bool] | None = None
    #: Parses a request body (a decoded JSON object) into an
    #: `assistant_stream_ce.requests.ChatRequest`: the function, or its import path
    #: ``"package.module:function"`` (imported on first use, so the core needs no pydantic).
    #: `assistant_stream_ce.requests.parse_request` finds it here.
    request_parser: Callable[[Any], Any] | str | None = None

    def get_request_parser(self) -> Callable[[Any], Any] | None:
        """The request parser (importing it if it is given by path), or None."""
        parser = self.request_parser
        if isinstance(parser, str):
            module_name, _, function = parser.partition(":")
            return getattr(importlib.import_module(module_name), function)  # type: ignore[no-any-return]
        return parser

    @property
    def media_type(self) -> str:
        """The response media type."""
        return self.encoder.media_type

    @property
    def sse(self) -> bool:
        """Whether frames are server-sent events."""
        return self.encoder.sse

    @property
    def headers(self) -> Mapping[str, str]:
        """The protocol's own response headers (markers such as ``x-vercel-ai-data-stream``)."""
        return self.encoder.headers

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary (what the demo's ``/api/formats`` lists)."""
        return {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "media_type": self.media_type,
            "sse": self.sse,
            "carries": sorted(self.carries),
        }


#: Every registered protocol by name, in registration order.
PROTOCOLS: dict[str, ProtocolInfo] = {}


def register_protocol(info: ProtocolInfo, *, replace: bool = False) -> ProtocolInfo:
    """Add ``info`` to `PROTOCOLS` (``replace=True`` to overwrite a protocol of the same name)."""
    unknown = info.carries - CAPABILITIES
    if unknown:
        raise ValueError(f"unknown capabilities {sorted(unknown)}; known: {sorted(CAPABILITIES)}")
    if info.name in PROTOCOLS and not replace:
        raise ValueError(f"a protocol named {info.name!r} is already registered")
    PROTOCOLS[info.name] = info
    return info


def unregister_protocol(name: str) -> None:
    """Remove a protocol from `PROTOCOLS` (a no-op for an unknown name)."""
    PROTOCOLS.pop(name, None)


def get_protocol(name: str) -> ProtocolInfo:
    """The protocol called ``name``; `ValueError` naming the known ones otherwise."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise ValueError(f"unknown protocol {name!r}; registered: {', '.join(PROTOCOLS)}") from None


def detect_protocol(headers: Mapping[str, str], first_payload: Any = None) -> str | None:
    """Guess a response's protocol from its headers and its first data frame's parsed JSON.

    A protocol's own marker header decides first, then a media type only one protocol uses,
    then the protocols' ``sniff`` functions. ``headers`` keys are matched case-insensitively.
    """
    lowered = {key.lower(): value.strip() for key, value in headers.items()}
    for info in PROTOCOLS.values():
        if info.marker is not None and lowered.get(info.marker[0].lower()) == info.marker[1]:
            return info.name
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    candidates = [info for info in PROTOCOLS.values() if info.media_type == media_type]
    if len(candidates) == 1:
        return candidates[0].name
    if first_payload is not None:
        for info in candidates or PROTOCOLS.values():
            if info.sniff is not None and info.sniff(first_payload):
                return info.name
    return None
