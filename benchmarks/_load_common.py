"""What `load.py` and its scale scenarios (`_scale.py`) share: the server process, token
checks and percentiles."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def check_tokens(text: str, expected: int) -> tuple[int, int]:
    """(lost, duplicated) tokens in ``text`` against ``tok0 … tok{expected-1}``."""
    seen: dict[int, int] = {}
    for word in text.split():
        if word.startswith("tok") and word[3:].isdigit():
            index = int(word[3:])
            seen[index] = seen.get(index, 0) + 1
    lost = sum(1 for i in range(expected) if i not in seen)
    duplicated = sum(count - 1 for count in seen.values() if count > 1)
    return lost, duplicated


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(
    port: int, env: dict[str, str] | None = None, http: str = "h11"
) -> subprocess.Popen[bytes]:
    """Start `_load_server.py` on 127.0.0.1:``port`` (uvicorn's ``http`` implementation:
    h11 or httptools) and wait until it answers."""
    process = subprocess.Popen(
        [sys.executable, str(HERE / "_load_server.py"), str(port), http],
        env={**os.environ, "PYTHONPATH": str(HERE), **(env or {})},
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/stats", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the load server did not start")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
