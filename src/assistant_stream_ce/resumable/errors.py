"""Errors, the stream-id rule and the default time to live of resumable streams."""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "DEFAULT_TTL_MS",
    "ResumableStreamError",
    "ResumableStreamErrorCode",
    "validate_stream_id",
]

#: Why a resumable-stream operation failed. The first four are those of ``assistant-stream``
#: 0.0.36; the others are ours: ``failed`` (the stream ended with an error, or its producer
#: died), ``trimmed`` (the entries after the requested cursor were trimmed away),
#: ``lease-lost`` (a producer lost its lease to a reader that declared it dead) and
#: ``limit`` (a configured size limit was reached).
ResumableStreamErrorCode = Literal[
    "missing", "exists", "finalized", "invalid-id", "failed", "trimmed", "lease-lost", "limit"
]

#: How long a stream is kept after its last write: 24 hours.
DEFAULT_TTL_MS = 24 * 60 * 60 * 1000

_STREAM_ID = re.compile(r"[A-Za-z0-9_.:-]{1,256}")


class ResumableStreamError(RuntimeError):
    """A resumable-stream operation failed; ``code`` says why.

    A `RuntimeError` subclass, so code written for 0.0.36 (whose stores raised `RuntimeError`
    for missing streams and producer errors) keeps catching these.
    """

    def __init__(self, code: ResumableStreamErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ResumableStreamErrorCode = code


def validate_stream_id(stream_id: str) -> None:
    """Raise `ResumableStreamError` (``invalid-id``) unless ``stream_id`` is 1–256 characters of
    ``A-Z a-z 0-9 _ . : -``."""
    if not isinstance(stream_id, str) or _STREAM_ID.fullmatch(stream_id) is None:
        shown = repr(stream_id)[:80] if isinstance(stream_id, str) else type(stream_id).__name__
        raise ResumableStreamError(
            "invalid-id",
            f"Invalid streamId: {shown} (must match ^{_STREAM_ID.pattern}$)",
        )
