"""Resumable streams: a run recorded in a store, replayed and followed by any reader.

The API of ``assistant_stream.resumable`` 0.0.36 (change the import root to switch)::

    from assistant_stream_ce.resumable import (
        create_resumable_stream_context, create_redis_resumable_stream_store,
        create_resumable_assistant_stream_response, create_resume_assistant_stream_response,
    )

    context = create_resumable_stream_context(store=create_redis_resumable_stream_store(redis))

The Redis store needs ``pip install 'assistant-stream-ce[redis]'``; this package imports
without redis-py (the store takes a client you create).
"""

from .context import ResumableStreamContext, create_resumable_stream_context, scoped_stream_id
from .errors import (
    DEFAULT_TTL_MS,
    ResumableStreamError,
    ResumableStreamErrorCode,
    validate_stream_id,
)
from .response import (
    RESUMABLE_CURSOR_HEADER,
    RESUMABLE_STREAM_ID_HEADER,
    create_resumable_assistant_stream_response,
    create_resume_assistant_stream_response,
    resume_cursor,
)
from .stores.in_memory import InMemoryResumableStreamStore, create_in_memory_resumable_stream_store
from .stores.redis import (
    RedisLikeClient,
    RedisResumableStreamStore,
    create_redis_resumable_stream_store,
)
from .types import (
    CancellationSignal,
    ResumableStreamEntry,
    ResumableStreamRole,
    ResumableStreamStatus,
    ResumableStreamStore,
)

__all__ = [
    "DEFAULT_TTL_MS",
    "RESUMABLE_CURSOR_HEADER",
    "RESUMABLE_STREAM_ID_HEADER",
    "CancellationSignal",
    "InMemoryResumableStreamStore",
    "RedisLikeClient",
    "RedisResumableStreamStore",
    "ResumableStreamContext",
    "ResumableStreamEntry",
    "ResumableStreamError",
    "ResumableStreamErrorCode",
    "ResumableStreamRole",
    "ResumableStreamStatus",
    "ResumableStreamStore",
    "create_in_memory_resumable_stream_store",
    "create_redis_resumable_stream_store",
    "create_resumable_assistant_stream_response",
    "create_resumable_stream_context",
    "create_resume_assistant_stream_response",
    "resume_cursor",
    "scoped_stream_id",
    "validate_stream_id",
]
