#!/usr/bin/env bash
# AG-UI encoding in process: ours vs ag-ui-protocol's EventEncoder vs pydantic-ai's
# AGUIEventStream (see agui_encoders.py). Not part of the tests; the other two are installed
# here, in a venv of the benchmark's own, never by the library.
#
#   benchmarks/agui_encoders.sh                    # 100,000 tokens, 3 repetitions (~1 min)
#   benchmarks/agui_encoders.sh --tokens 20000 --reps 1
#   benchmarks/agui_encoders.sh --http             # also server CPU per HTTP stream
#
# Environment: PYTHON (interpreter for the venv, default python3), BENCH_AGUI_VENV (venv path,
# default benchmarks/.venv-ag-ui).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
VENV="${BENCH_AGUI_VENV:-$HERE/.venv-ag-ui}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -e "$ROOT" "ag-ui-protocol==1.0.0" "pydantic-ai-slim[ag-ui]==2.68.0" \
    "uvicorn>=0.29" "httpx>=0.27"

exec "$VENV/bin/python" "$HERE/agui_encoders.py" "$@"
