"""The short profile of `benchmarks/load.py` (issue 14): 60 concurrent streams over every
registered protocol against a real uvicorn process — steady, bursty, slow and aborting clients.
No token may be lost or duplicated, every read-through stream completes, aborted runs are
cancelled on the server, and its tasks and file descriptors are back where they started."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant_stream_ce.serialization import PROTOCOLS

pytestmark = pytest.mark.http

LOAD = Path(__file__).resolve().parents[1] / "benchmarks" / "load.py"


@pytest.mark.timeout(180)
def test_the_short_load_profile_loses_nothing_and_leaks_nothing() -> None:
    result = subprocess.run(
        [sys.executable, str(LOAD), "--json"], capture_output=True, text=True, timeout=150
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert report["protocols"] == sorted(PROTOCOLS)
    assert report["errors"] == []
    assert report["complete"] == report["expected_complete"] > 0
    assert report["lost_tokens"] == report["duplicated_tokens"] == 0
    aborted = report["streams"] - report["expected_complete"]
    assert report["outcomes"] == {"completed": report["expected_complete"], "cancelled": aborted}
    assert report["tasks"]["end"] <= report["tasks"]["start"]
    assert report["fds"]["end"] <= report["fds"]["start"] + 2
    assert report["rss_mib"]["peak"] - report["rss_mib"]["start"] < 64
