#!/usr/bin/env bash
# Body of `make test` / `make bench`: runs against the private "test" stack (its own ports and state
# dir, see deploy/env/test.env), so tests never touch a running dev stack.
#
#   deploy/run-tests.sh [pytest args...]     default args: -q
#   deploy/run-tests.sh --bench [args...]    runs `python -m $BENCH_MODULE` (default: bench) instead of pytest
#
# If the test stack was already fully running before (someone keeps it up to iterate quickly), it is
# left running; otherwise whatever this run started is stopped on exit. KEEP_STACK=1 always keeps it.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
PY="$REPO_ROOT/.venv/bin/python"

export STACK_NAME=test
# shellcheck source=env/test.env
source "$REPO_ROOT/deploy/env/test.env"
export PYTHONPATH="$REPO_ROOT${PYTHONPATH:+:$PYTHONPATH}"

# The test stack's ports are shared by every checkout on this machine: serialise runs by port, or one
# run's EXIT trap would stop the stack under another run's feet (or another checkout's stack would
# hold the ports this one needs).
mkdir -p "$STACK_DIR"
exec 8>"${TMPDIR:-/tmp}/invoicing-test-stack-$KAFKA_PORT.lock"
if ! flock -n 8; then
    echo "[test] another deploy/run-tests.sh is using the test stack; waiting for it to finish"
    flock 8
fi

stop_stack=1
if deploy/stack.sh status >/dev/null 2>&1; then
    echo "[test] test stack already running before this run: leaving it up afterwards"
    stop_stack=0
fi
[[ "${KEEP_STACK:-0}" == 1 ]] && stop_stack=0

cleanup() {
    local rc=$?
    if ((stop_stack)); then
        deploy/stack.sh down || echo "[test] WARNING: stopping the test stack failed" >&2
    fi
    exit "$rc"
}
trap cleanup EXIT
# A Ctrl-C should still run the cleanup above (EXIT traps fire on normal exit; map signals to one).
trap 'exit 130' INT
trap 'exit 143' TERM

if ((stop_stack)); then
    # A run that owns the stack starts from empty databases: FerretDB 1.24's SQLite backend scans
    # whole collections even for _id lookups, so data left by earlier runs slows every test.
    rm -rf "$STACK_DIR/ferretdb/data"
fi
# Likewise PostgreSQL's service databases: `up` drops and recreates them (which also works when postgres
# alone was left running, where deleting its data dir would pull the files from under a live server).
POSTGRES_RESET_DATABASES="$stop_stack" deploy/stack.sh up

if [[ "${1:-}" == --bench ]]; then
    shift
    set +e
    "$PY" -m "${BENCH_MODULE:-bench}" "$@"
    rc=$?
    set -e
    exit "$rc"
fi

[[ $# -gt 0 ]] || set -- -q
# The Debian tools the tests drive (Chromium, pdftoppm, zbarimg), installed on the first run.
deploy/test-tools/install.sh
set +e
"$PY" -m pytest "$@"
rc=$?
set -e
if ((rc == 5)); then
    echo "[test] ERROR: pytest collected no tests (exit 5); treating as failure" >&2
    rc=1
fi
exit "$rc"
