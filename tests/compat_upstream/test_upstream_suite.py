"""assistant-stream 0.0.36's own test suite, run against our package through an import alias.

At test time the 0.0.36 sdist is fetched from PyPI with pip (cached under the gitignored
``test-artifacts/``; its tests are never committed here) and its ``tests/`` folder runs in a
separate pytest process with ``assistant_stream`` aliased to ``assistant_stream_ce`` (see
``_upstream_alias.py``), so the alias never leaks into our own session. Every module must
collect; every test must pass except those listed in ``_upstream_expectations.py``.

Every upstream module runs, the ``resumable`` tests included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from _upstream_expectations import DIFFERS, PENDING

# The upstream suite's test_langgraph.py imports langchain_core (the [langgraph] extra, which
# needs Python 3.11 or newer).
pytest.importorskip("langchain_core", reason="the upstream suite needs the [langgraph] extra")

VERSION = "0.0.36"
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CACHE = REPO / "test-artifacts" / f"upstream-assistant-stream-{VERSION}"
SDIST = f"assistant_stream-{VERSION}"


def _fetch_upstream_tests() -> Path:
    """The extracted ``tests/`` folder of the 0.0.36 sdist (downloaded once, then cached)."""
    root = CACHE / SDIST
    if (root / "tests" / "__init__.py").exists():
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    download = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--disable-pip-version-check",
            "--no-binary",
            ":all:",
            "--no-deps",
            f"assistant-stream=={VERSION}",
            "-d",
            str(CACHE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    archive = CACHE / f"{SDIST}.tar.gz"
    if download.returncode != 0 or not archive.exists():
        message = f"could not download the assistant-stream {VERSION} sdist:\n{download.stderr}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith(f"{SDIST}/tests/")]
        tar.extractall(CACHE, members=members, filter="data")
    _regenerate_interop_fixture(root)
    return root


def _regenerate_interop_fixture(root: Path) -> None:
    """Write the fixture test_interop_fixture.py reads, with the installed 0.0.36 baseline.

    The fixture lives in the upstream monorepo's JavaScript package, not in the sdist; the
    upstream script that produces it is run here (without the alias) where it expects it.
    """
    script = root / "tests" / "generate_interop_fixture.py"
    fixture_dir = (
        script.parents[3]
        / "packages/assistant-stream/src/core/serialization/assistant-transport/__fixtures__"
    )
    fixture_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "tests.generate_interop_fixture"],
        cwd=root,
        capture_output=True,
        timeout=120,
        check=False,  # without the baseline the fixture stays missing: that test fails
    )


def _run_upstream_suite(
    root: Path, redis_url: str
) -> tuple[subprocess.CompletedProcess[str], Path]:
    (root / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n"
        "timeout = 60\n"
    )
    report = root / "report.xml"
    paths = [str(HERE), str(root), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "REDIS_URL": redis_url,  # the upstream Redis store tests run against a real server
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "_upstream_alias",
            "-p",
            "no:cacheprovider",
            "-c",
            str(root / "pytest.ini"),
            "--rootdir",
            str(root),
            f"--junitxml={report}",
            "-q",
            "-rfEX",
            "tests",
        ],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result, report


def _outcomes(report: Path) -> dict[str, str]:
    """``file::test`` → passed / failed / error / skipped / xfailed / xpassed."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        key = f"{module}.py::{case.get('name')}"
        children = {child.tag: child for child in case}
        if "failure" in children:
            outcomes[key] = "failed"
        elif "error" in children:
            outcomes[key] = "error"
        elif "skipped" in children:
            kind = children["skipped"].get("type", "")
            outcomes[key] = "xfailed" if kind == "pytest.xfail" else "skipped"
        else:
            outcomes[key] = "passed"
    return outcomes


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    sys.path.insert(0, str(REPO / "tests" / "resumable"))
    from _resumable_redis import RedisServer, require_redis_server

    server = RedisServer(require_redis_server(), tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.mark.timeout(900)
def test_upstream_suite_passes_through_the_alias(redis_url: str) -> None:
    root = _fetch_upstream_tests()
    result, report = _run_upstream_suite(root, redis_url)
    output = result.stdout + result.stderr
    print(output[-6000:])
    assert report.exists(), output[-4000:]
    outcomes = _outcomes(report)
    counts = Counter(outcomes.values())
    assert counts["skipped"] == 0, "an upstream test was skipped (the Redis store's need a server)"
    print(f"upstream suite: {len(outcomes)} collected, {dict(counts)}")
    assert "errors during collection" not in output, output[-4000:]
    files = {p.name for p in (root / "tests").glob("test_*.py")}
    assert {key.split("::")[0] for key in outcomes} == files, "an upstream module did not run"
    assert len(outcomes) > 100, f"too few upstream tests ran: {len(outcomes)}"
    stale = sorted((set(DIFFERS) | set(PENDING)) - set(outcomes))
    assert not stale, f"expectations name tests that did not run: {stale}"
    assert result.returncode == 0, output[-4000:]
    # Strict entries fail the run above when they pass; pending ones are only reported.
    now_passing = sorted(k for k in PENDING if outcomes[k] == "passed")
    if now_passing:
        print("pending upstream tests that now pass (move them out of PENDING):", now_passing)
