#!/usr/bin/env bash
# UI message stream encoding in process: ours vs pydantic-ai's VercelAIEventStream.
# Installs pydantic-ai-slim into its own venv (the library never depends on it).
#
#   benchmarks/ui_message_stream.sh [--tokens N] [--reps N] [--http N]
#
# Environment: PYTHON (interpreter for the venv, default python3), BENCH_UI_VENV (venv path,
# default benchmarks/.venv-ui).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${BENCH_UI_VENV:-$HERE/.venv-ui}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" "pydantic-ai-slim==2.68.0" "starlette>=0.37" "orjson>=3.9" "uvicorn>=0.29" httptools \
    "httpx>=0.27"
"${PIP[@]}" -e "$ROOT"

exec "$VENV/bin/python" "$HERE/ui_message_stream_bench.py" "$@"
