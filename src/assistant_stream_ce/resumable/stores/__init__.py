"""Stores for resumable streams: in memory (one process) and Redis (any number of workers)."""

from .in_memory import InMemoryResumableStreamStore, create_in_memory_resumable_stream_store
from .redis import RedisLikeClient, RedisResumableStreamStore, create_redis_resumable_stream_store

__all__ = [
    "InMemoryResumableStreamStore",
    "RedisLikeClient",
    "RedisResumableStreamStore",
    "create_in_memory_resumable_stream_store",
    "create_redis_resumable_stream_store",
]
