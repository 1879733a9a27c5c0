#!/usr/bin/env bash
# Runs the platform's Python services natively in the background against the local stack.
#
#   deploy/services.sh up|down|status [invoices|numbering|payments|mailer ...]   (default: all)
#
# STACK_NAME (default dev) selects deploy/env/$STACK_NAME.env. Each service runs as
# `.venv/bin/python -m services.<name>` with that env plus HTTP_PORT=<its public port>, INTERNAL_PORT=<its
# operators' port> and its own Kafka principal (KAFKA_SASL_USERNAME=<name>,
# KAFKA_SASL_PASSWORD_FILE=$KAFKA_CREDENTIALS_DIR/<name>.password), and must answer GET /readyz on its
# internal port with 200 once it is ready. The read APIs sign cursors with $CURSOR_SECRET_FILE, the invoices
# service makes hosted page tokens with $HOSTED_LINK_SECRET_FILE (both made here if the stack has none yet) and
# links its pages under INVOICES_PUBLIC_URL, its own HTTP address on this machine. Logs and pid files: $STACK_DIR/services/<name>.{log,pid}.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

ALL_SERVICES=(invoices numbering payments mailer)
SERVICES_DIR="$STACK_DIR/services"
READY_TIMEOUT="${SERVICES_READY_TIMEOUT:-60}"

svc_port() {
    local var="${1^^}_HTTP_PORT"
    echo "${!var}"
}
svc_internal_port() {
    local var="${1^^}_INTERNAL_PORT"
    echo "${!var}"
}
svc_pidfile() { echo "$SERVICES_DIR/$1.pid"; }
svc_log() { echo "$SERVICES_DIR/$1.log"; }
# The command line is identical for dev and test (the port is in the environment), so a pid is
# attributed to a stack by its per-stack pid file; the marker only rules out reused pids.
svc_marker() { echo "-m services.$1"; }
svc_ready() { http_ok "http://127.0.0.1:$(svc_internal_port "$1")/readyz"; }

up_one() {
    local s="$1" pid port internal_port
    port="$(svc_port "$s")"
    internal_port="$(svc_internal_port "$s")"
    if pid="$(pid_of "$(svc_pidfile "$s")" "$(svc_marker "$s")")"; then
        if svc_ready "$s"; then
            say "$s: already running (pid $pid) on :$port"
            return 0
        fi
        say "$s: running (pid $pid) but not ready yet, waiting"
    else
        rm -f "$(svc_pidfile "$s")"
        ensure_port_free "$s" "$port"
        ensure_port_free "$s-internal" "$internal_port"
        say "$s: starting on :$port (internal :$internal_port)"
        # Each service connects to PostgreSQL as its own role (deploy/stack.sh made it).
        local database_url
        database_url="$(pg_role_url "$s")" || die "$s: no PostgreSQL credentials; run 'deploy/stack.sh up postgres'"
        # cd + PYTHONPATH so `-m services.<name>` imports this checkout, whatever the caller's cwd.
        # Each service is its own Kafka principal, with the password deploy/provision_kafka.py made for it.
        (cd "$REPO_ROOT" && HTTP_PORT="$port" INTERNAL_PORT="$internal_port" PYTHONPATH="$REPO_ROOT" SERVICE_NAME="$s" DATABASE_URL="$database_url" \
            KAFKA_SASL_USERNAME="$s" KAFKA_SASL_PASSWORD="" KAFKA_SASL_PASSWORD_FILE="$KAFKA_CREDENTIALS_DIR/$s.password" \
            start_bg "$(svc_pidfile "$s")" "$(svc_log "$s")" "$PY" -u -m "services.$s")
    fi
    local t0=$SECONDS
    wait_healthy "$s" "$(svc_pidfile "$s")" "$(svc_log "$s")" "$READY_TIMEOUT" svc_ready "$s"
    say "$s: ready after $((SECONDS - t0))s at http://127.0.0.1:$port (internal http://127.0.0.1:$internal_port)"
}

down_one() {
    stop_pid "$1" "$(svc_pidfile "$1")" "$(svc_marker "$1")" 20
}

status_one() {
    local s="$1" pid port
    port="$(svc_port "$s")"
    if pid="$(pid_of "$(svc_pidfile "$s")" "$(svc_marker "$s")")"; then
        if svc_ready "$s"; then
            printf '%-11s %-18s pid %-8s http://127.0.0.1:%s\n' "$s" running "$pid" "$port"
        else
            printf '%-11s %-18s pid %-8s http://127.0.0.1:%s\n' "$s" "not ready" "$pid" "$port"
            return 1
        fi
    else
        printf '%-11s %-18s %s\n' "$s" stopped "(stack $STACK_NAME)"
        return 1
    fi
}

usage() {
    echo "usage: STACK_NAME=dev|test $0 up|down|status [${ALL_SERVICES[*]}]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
cmd="$1"
shift
services=("$@")
[[ ${#services[@]} -gt 0 ]] || services=("${ALL_SERVICES[@]}")
for s in "${services[@]}"; do
    [[ " ${ALL_SERVICES[*]} " == *" $s "* ]] || die "unknown service '$s' (known: ${ALL_SERVICES[*]})"
done

case "$cmd" in
up)
    require_venv
    mkdir -p "$SERVICES_DIR"
    ensure_http_secrets
    # Services need the infrastructure; fail early with a pointer instead of four confusing service logs.
    if ! "$REPO_ROOT/deploy/stack.sh" status >/dev/null 2>&1; then
        die "the $STACK_NAME stack is not fully running; run 'STACK_NAME=$STACK_NAME deploy/stack.sh up' first"
    fi
    in_parallel up_one "${services[@]}" || die "services did not all come up (see above)"
    ;;
down)
    in_parallel down_one "${services[@]}"
    ;;
status)
    rc=0
    for s in "${services[@]}"; do status_one "$s" || rc=3; done
    exit "$rc"
    ;;
*) usage ;;
esac
