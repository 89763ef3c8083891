#!/usr/bin/env bash
# Benchmarks: ours (assistant_stream_ce, installed editable from this repo) vs the anchor
# (assistant-stream==0.0.36 from PyPI) vs a minimal async generator. Not part of the tests.
#
#   benchmarks/run.sh                # full run (~10 min on 2 cores)
#   benchmarks/run.sh --quick        # smoke run
#   benchmarks/run.sh --help         # all options (--reps, --only, --impls, --json, ...)
#
# Environment: PYTHON (interpreter for the venv, default python3), BENCH_VENV (venv path,
# default benchmarks/.venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${BENCH_VENV:-$HERE/.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)

"${PIP[@]}" "assistant-stream==0.0.36" "starlette>=0.37" "orjson>=3.9" "uvicorn>=0.29" httptools
# Ours: a failed install is not fatal; bench.py then skips it and says why.
if ! "${PIP[@]}" -e "$ROOT"; then
    echo "WARNING: could not install assistant-stream-ce from $ROOT; benchmarking without it" >&2
fi

exec "$VENV/bin/python" "$HERE/bench.py" "$@"
