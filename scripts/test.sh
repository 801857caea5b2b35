#!/usr/bin/env bash
# The project's test command:
#
#     bash scripts/test.sh [PYTEST_ARGS...]
#
# Creates or updates .venv, installs the project with its test extra, starts
# private PostgreSQL and MariaDB servers (installing the server packages with
# apt-get when missing and running as root), then runs ruff check, ruff
# format --check, mypy and pytest. Every step runs even if an earlier one
# failed; a summary follows and the exit status is non-zero if any step
# failed. The servers are always stopped on exit. Extra arguments go to pytest.
#
# Environment: PYTHON (interpreter for the venv, default python3), VENV
# (default .venv in the repository), LIMBECK_TEST_TIMEOUT (per-test timeout
# in seconds, default 600).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=${VENV:-$ROOT/.venv}
TIMEOUT=${LIMBECK_TEST_TIMEOUT:-600}

declare -a STEP_NAMES=() STEP_RESULTS=()
FAILED=0

note() { printf '\n==> %s\n' "$*"; }

record() { # record NAME EXIT_CODE
    STEP_NAMES+=("$1")
    if [ "$2" -eq 0 ]; then
        STEP_RESULTS+=("ok")
    else
        STEP_RESULTS+=("FAILED (exit $2)")
        FAILED=1
    fi
}

step() { # step NAME COMMAND...
    local name=$1 rc
    shift
    note "$name: $*"
    "$@"
    rc=$?
    record "$name" "$rc"
    return "$rc"
}

summary() {
    local i
    note "summary"
    for i in "${!STEP_NAMES[@]}"; do
        printf '    %-24s %s\n' "${STEP_NAMES[$i]}" "${STEP_RESULTS[$i]}"
    done
}

# --- environment -------------------------------------------------------------

setup_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -m venv "$VENV" || return 1
    fi
    # Reinstall only when the packaging metadata changed (the install is
    # editable, so source changes need no reinstall).
    local stamp="$VENV/.limbeck-test-install" want have=""
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    [ -f "$stamp" ] && have=$(cat "$stamp")
    if [ "$want" = "$have" ] && "$VENV/bin/python" -c 'import limbeck' 2>/dev/null; then
        echo "up to date ($VENV)"
        return 0
    fi
    # The oracle group brings Alembic so the acceptance tests can compare
    # (they run Alembic in a virtual environment of its own, never in-process).
    "$VENV/bin/python" -m pip install --quiet -e '.[test,oracle]' || return 1
    echo "$want" >"$stamp"
}

if ! step "venv + install" setup_venv; then
    summary
    echo "test.sh: cannot set up the virtual environment; nothing else can run" >&2
    exit 1
fi
PY="$VENV/bin/python"

# --- database servers --------------------------------------------------------

STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/limbeck-test.XXXXXX") || exit 1
STATE="$STATE_DIR/servers.json"

stop_servers() {
    [ -f "$STATE" ] || return 0
    "$PY" scripts/dbservers.py stop --state "$STATE"
}

# On any exit, including an interrupted run: stop whatever is still running.
cleanup() {
    local rc=$?
    if [ -f "$STATE" ]; then
        note "stopping database servers"
        stop_servers || rc=1
    fi
    rm -rf "$STATE_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_servers() {
    local exports
    exports=$("$PY" scripts/dbservers.py start --state "$STATE") || return 1
    eval "$exports"
    export LIMBECK_TEST_POSTGRESQL_URL LIMBECK_TEST_MARIADB_URL
    echo "LIMBECK_TEST_POSTGRESQL_URL and LIMBECK_TEST_MARIADB_URL exported"
}

step "database servers" start_servers

# --- checks --------------------------------------------------------------------

step "ruff check" "$VENV/bin/ruff" check src tests bench
step "ruff format" "$VENV/bin/ruff" format --check src tests bench
step "mypy" "$VENV/bin/mypy"
# A temporary directory of this run's own: pytest prunes old ones in the shared
# default location, which would pull files from under a parallel run.
BASETEMP=$(mktemp -d "${TMPDIR:-/tmp}/limbeck-pytest.XXXXXX")
step "pytest" "$PY" -m pytest --timeout="$TIMEOUT" --basetemp="$BASETEMP" "$@"
rm -rf "$BASETEMP"
step "stop servers" stop_servers

summary
if [ "$FAILED" -ne 0 ]; then
    echo "test.sh: some steps failed" >&2
    exit 1
fi
echo "test.sh: all steps passed"
