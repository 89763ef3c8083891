from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from _live import LiveServer


@pytest.fixture
def live_server() -> Iterator[Callable[[Any], LiveServer]]:
    """Start apps under real uvicorn on 127.0.0.1; all are stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: Any) -> LiveServer:
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
