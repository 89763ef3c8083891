from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _resumable_redis import RedisServer, require_redis_server

from assistant_stream_ce.resumable import (
    create_in_memory_resumable_stream_store,
    create_redis_resumable_stream_store,
)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server for the whole session (skipped without one, failed under CI)."""
    binary = require_redis_server()
    server = RedisServer(binary, Path(tmp_path_factory.mktemp("redis"))).start()
    yield server
    server.stop()


@pytest.fixture
async def redis_client(redis_server: RedisServer) -> AsyncIterator[Any]:
    import redis.asyncio as redis

    client = redis.from_url(redis_server.url)
    yield client
    await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A key prefix of its own for each test."""
    return f"test:{uuid.uuid4().hex[:12]}"


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, key_prefix: str) -> AsyncIterator[Any]:
    """Each store of the library: in memory, and on the real Redis server."""
    if request.param == "memory":
        memory = create_in_memory_resumable_stream_store()
        yield memory
        memory.dispose()
        return
    import redis.asyncio as redis

    server: RedisServer = request.getfixturevalue("redis_server")
    client = redis.from_url(server.url)
    redis_store = create_redis_resumable_stream_store(client, key_prefix=key_prefix)
    yield redis_store
    await redis_store.aclose()
    await client.aclose()
