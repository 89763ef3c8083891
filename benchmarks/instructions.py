"""Compare two commits of this repo by CPU instructions per run, counted by valgrind.

Wall-clock figures on a shared or virtual machine drift by tens of percent between runs;
the number of instructions a workload executes does not (it varies by a fraction of a
percent). This script counts them for scenario (b) of ``bench.py`` (the mixed run) and a
one-token run, for each protocol, in a fresh process per commit, and prints the per-run
counts and their ratio. Lower is better; it measures work done, not cache or scheduling
effects, so read it beside ``run.sh``'s timings, not instead of them.

    python benchmarks/instructions.py --before 83fd16b            # vs the working tree
    python benchmarks/instructions.py --before v1 --after v2 --runs 200

Needs ``valgrind`` (Debian: ``apt-get install valgrind``) and git. Each commit is checked out
into ``benchmarks/.cache/<commit>`` (a git worktree) with its own venv (the package and its core
dependencies only: no extras, so both heaps hold the same modules), made once and reused.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
PROTOCOLS = ("data-stream", "assistant-transport", "openai")

# The workload runs in the measured checkout's venv; the scenario itself comes from this
# script's own benchmarks/_common.py, so both commits run exactly the same callback.
WORKLOAD = r"""
import asyncio, gc, sys
sys.path.insert(0, sys.argv[1])
from _common import load_impl, mixed_callback

async def one_token(controller):
    controller.append_text("hi")

async def main(scenario, protocol, runs):
    impl = load_impl("ours")
    callback = {
        "mixed": mixed_callback(False),
        "mixed-await": mixed_callback(True),
        "one-token": one_token,
    }[scenario]
    for index in range(runs):
        async for _ in impl.encode(protocol, impl.create_run(callback)):
            pass
        if index == 0:
            # After the first (warm-up) run: move everything alive to the permanent generation,
            # so collections during the measured runs do not depend on how many modules each
            # commit happens to import.
            gc.collect()
            gc.freeze()

asyncio.run(main(sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


def checkout(commit: str) -> Path:
    """A venv with ``commit`` installed editable; the working tree for ``WORKTREE``."""
    if commit == "WORKTREE":
        source = ROOT
        venv = CACHE / "venv"  # core dependencies only, like the other commit's venv
    else:
        sha = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", commit],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        source = CACHE / sha[:12]
        venv = source / ".venv"
        if not source.exists():
            CACHE.mkdir(exist_ok=True)
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(source), sha],
                check=True,
                capture_output=True,
            )
    if not (venv / "bin" / "python").exists():
        print(f"setting up {venv} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "-e", str(source)],
            check=True,
        )
    return venv / "bin" / "python"


def instructions(python: Path, scenario: str, protocol: str, runs: int) -> int:
    """Instructions executed by the workload (whole process, interpreter start included)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as script:
        script.write(WORKLOAD)
    try:
        result = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                str(python),
                script.name,
                str(HERE),
                scenario,
                protocol,
                str(runs),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
    finally:
        os.unlink(script.name)
    found = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"valgrind failed for {python} {scenario} {protocol}:\n{result.stderr}")
    return int(found.group(1))


def per_run(python: Path, scenario: str, protocol: str, runs: int) -> float:
    """Instructions per run: (N+1 runs − 1 run) / N, so start-up and imports cancel out."""
    return (
        instructions(python, scenario, protocol, runs + 1)
        - instructions(python, scenario, protocol, 1)
    ) / runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="commit to compare against")
    parser.add_argument("--after", default="WORKTREE", help="commit (default: working tree)")
    parser.add_argument("--runs", type=int, default=100, help="runs per measurement")
    parser.add_argument(
        "--scenarios", default="mixed,mixed-await,one-token", help="comma-separated"
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    before, after = checkout(args.before), checkout(args.after)
    print(f"instructions per run (valgrind), before={args.before} after={args.after}")
    print(f"{'scenario':12s} {'protocol':20s} {'before':>11s} {'after':>11s} {'after/before':>12s}")
    for scenario in args.scenarios.split(","):
        for protocol in PROTOCOLS:
            b = per_run(before, scenario, protocol, args.runs)
            a = per_run(after, scenario, protocol, args.runs)
            print(f"{scenario:12s} {protocol:20s} {b:11,.0f} {a:11,.0f} {a / b:11.3f}x", flush=True)


if __name__ == "__main__":
    main()
