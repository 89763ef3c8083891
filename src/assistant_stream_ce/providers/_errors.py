"""Turn provider SDK exceptions into `ProviderError`s whose messages are safe to show.

Safe means: nothing `redact` would remove (no API key, whole or in part, no bearer token, no
``sk-…`` secret, no header dump), and a bounded length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ..errors import ProviderError
from ..redaction import REDACTED, redact

__all__ = ["REDACTED", "from_sdk_error", "redact", "safe_url", "stream_incomplete"]

MAX_REASON = 300


def _url_credentials(url: object) -> list[str]:
    """The user and password of a URL's userinfo (secrets, whatever the key is)."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return []
    return [value for value in (parts.username, parts.password) if value]


def safe_url(url: object) -> str:
    """A URL without credentials, query or fragment (for "could not connect to …")."""
    try:
        parts = urlsplit(str(url))
    except ValueError:
        return "the configured base URL"
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return f"{parts.scheme}://{host}{parts.path}" if parts.scheme else "the configured base URL"


# HTTP status -> kind; Anthropic error type -> kind.
_STATUS_KINDS = {
    400: "bad_request",
    401: "authentication",
    402: "billing",
    403: "permission",
    404: "not_found",
    408: "timeout",
    409: "conflict",
    413: "bad_request",
    422: "bad_request",
    429: "rate_limit",
    503: "overloaded",
    529: "overloaded",
}
_TYPE_KINDS = {
    "invalid_request_error": "bad_request",
    "authentication_error": "authentication",
    "billing_error": "billing",
    "permission_error": "permission",
    "not_found_error": "not_found",
    "rate_limit_error": "rate_limit",
    "timeout_error": "timeout",
    "api_error": "server",
    "server_error": "server",
    "overloaded_error": "overloaded",
    "insufficient_quota": "rate_limit",
}
_KIND_WORDS = {
    "bad_request": "bad request",
    "authentication": "authentication error",
    "billing": "billing error",
    "permission": "permission denied",
    "not_found": "not found",
    "timeout": "timeout",
    "conflict": "conflict",
    "server": "server error",
}
_HINTS = {
    "authentication": "check the API key",
    "not_found": "check the model name and the base URL",
    "rate_limit": "slow down or try again later",
    "overloaded": "try again later",
}


def _error_object(body: Any) -> Mapping[str, Any] | None:
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
        return body
    return None


def _reason(exc: BaseException, error: Mapping[str, Any] | None) -> str:
    message = error.get("message") if error is not None else None
    if not isinstance(message, str) or not message:
        message = str(getattr(exc, "message", "") or exc)
        message = re.sub(r"^Error code: \d+ - ", "", message)
    return " ".join(message.split())


def _clip(text: str) -> str:
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _compose(label: str, kind: str, status: int | None, reason: str, *, in_band: bool) -> str:
    if kind == "overloaded":
        head = f"{label} is overloaded" + (f" ({status})" if status else "")
    elif kind == "rate_limit":
        head = f"{label} request failed: rate limit" + (f" ({status})" if status else "")
    elif in_band:
        words = _KIND_WORDS.get(kind, "error")
        head = f"{label} reported an error mid-stream ({words})"
    else:
        words = _KIND_WORDS.get(kind, "error")
        head = f"{label} request failed: " + (f"{status} {words}" if status else words)
    message = f"{head}: {reason}" if reason else head
    hint = _HINTS.get(kind)
    if hint and hint not in message:
        message += f" ({hint})"
    return message


def from_sdk_error(
    exc: BaseException,
    *,
    provider: str,
    label: str,
    secrets: Iterable[str | None],
    base_url: object,
    mid_stream: bool = False,
) -> ProviderError:
    """A `ProviderError` for any exception an SDK raised while requesting or streaming.

    ``mid_stream`` says the response had started streaming when ``exc`` was raised.
    """
    secrets = [*secrets, *_url_credentials(base_url)]
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    error = _error_object(body)
    if mid_stream and ("Timeout" in name or "Connection" in name or "Protocol" in name):
        return ProviderError(
            f"{label} stream broke off mid-way: the connection was lost ({name})",
            provider=provider,
            kind="stream",
        )
    if "Timeout" in name:
        return ProviderError(
            redact(f"{label} request timed out (no answer from {safe_url(base_url)})", secrets),
            provider=provider,
            kind="timeout",
        )
    if "Connection" in name:
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__})" if cause is not None else ""
        return ProviderError(
            redact(f"Could not connect to {label} at {safe_url(base_url)}{detail}", secrets),
            provider=provider,
            kind="connection",
        )
    if isinstance(status, int) or error is not None:
        error_type = error.get("type") if error is not None else None
        code = error.get("code") if error is not None else None
        # A stream answered with 200 and then carried an error event (OpenAI `data: {"error":…}`,
        # Anthropic `event: error`): the status says nothing, the error type does.
        in_band = not isinstance(status, int) or status < 400
        kind = None
        if isinstance(code, str) and code in _TYPE_KINDS:
            kind = _TYPE_KINDS[code]
        if kind is None and isinstance(error_type, str):
            kind = _TYPE_KINDS.get(error_type)
        if not in_band:
            assert isinstance(status, int)
            kind = _STATUS_KINDS.get(status) or kind or ("server" if status >= 500 else "error")
        kind = kind or "server"
        http_status = status if isinstance(status, int) and not in_band else None
        reason = _clip(redact(_reason(exc, error), secrets))
        return ProviderError(
            _compose(label, kind, http_status, reason, in_band=in_band),
            provider=provider,
            status_code=http_status,
            kind=kind,
        )
    # Anything else broke the stream: a dropped connection, a malformed event, …
    detail = _clip(redact(" ".join(str(exc).split()), secrets))
    where = "mid-way" if mid_stream else "before it started"
    message = f"{label} stream broke off {where}: {name}" + (f": {detail}" if detail else "")
    return ProviderError(message, provider=provider, kind="stream")


def stream_incomplete(provider: str, label: str) -> ProviderError:
    """The stream ended cleanly but without the provider's end-of-message event."""
    return ProviderError(
        f"{label} stream ended before the response was complete",
        provider=provider,
        kind="stream",
    )
