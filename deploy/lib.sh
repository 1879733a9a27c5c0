# Shared helpers for deploy/stack.sh and deploy/services.sh. Source it; do not run it.
# Callers use `set -euo pipefail`, so every helper returns an explicit status instead of failing silently.

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="$REPO_ROOT/.venv/bin/python"

say() { printf '[%s] %s\n' "${STACK_NAME:-?}" "$*"; }
die() { printf '[%s] ERROR: %s\n' "${STACK_NAME:-?}" "$*" >&2; exit 1; }

# Picks deploy/env/$STACK_NAME.env so that every script (and the tests) agree on ports and state dirs.
# STACK_ENV_FILE names another env file instead: the deploy tests' throwaway stacks.
load_env() {
    STACK_NAME="${STACK_NAME:-dev}"
    local env_file="${STACK_ENV_FILE:-$REPO_ROOT/deploy/env/$STACK_NAME.env}"
    [[ -f "$env_file" ]] || die "unknown STACK_NAME '$STACK_NAME' (or STACK_ENV_FILE): $env_file does not exist"
    # shellcheck disable=SC1090
    source "$env_file"
}

require_venv() {
    [[ -x "$PY" ]] || die "$PY is missing; run 'make setup' first"
}

port_open() {
    # A bash /dev/tcp connect avoids depending on nc/ss being installed.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

http_ok() {
    curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
}

# pid_of <pidfile> <cmdline-marker>: prints the pid only when that process is alive AND is still ours.
# Checking the command line guards against stale pid files whose pid was reused by an unrelated process.
pid_of() {
    local pidfile="$1" marker="$2" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$marker" || return 1
    echo "$pid"
}

# start_bg <pidfile> <logfile> <cmd...>: runs cmd detached in its own session, so Ctrl-C in the calling
# terminal or the exit of `make` does not take it down, and `down` can signal the whole process group.
start_bg() {
    local pidfile="$1" logfile="$2"
    shift 2
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")"
    {
        printf '\n===== %s starting: %s\n' "$(date '+%F %T')" "$*"
    } >>"$logfile"
    # Without job control the background child is not a group leader, so setsid does not fork: $! is the real pid.
    # 8>&- 9>&- : those fds hold the locks of run-tests.sh and stack.sh; a daemon inheriting them would
    # hold the locks forever.
    setsid "$@" >>"$logfile" 2>&1 </dev/null 8>&- 9>&- &
    echo $! >"$pidfile"
}

# stop_pid <name> <pidfile> <marker> [timeout] [signal]: SIGTERM to the process group, wait, then SIGKILL; a
# no-op when nothing runs. With a signal, that signal goes to the process alone, for a server that stops its
# own children in order (PostgreSQL).
stop_pid() {
    local name="$1" pidfile="$2" marker="$3" timeout="${4:-30}" signal="${5:-}" pid i
    if ! pid="$(pid_of "$pidfile" "$marker")"; then
        rm -f "$pidfile"
        say "$name: not running"
        return 0
    fi
    say "$name: stopping (pid $pid)"
    if [[ -n "$signal" ]]; then
        kill -s "$signal" "$pid" 2>/dev/null || true
    else
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    fi
    for ((i = 0; i < timeout * 5; i++)); do
        [[ -d "/proc/$pid" ]] || break
        sleep 0.2
    done
    if [[ -d "/proc/$pid" ]]; then
        say "$name: still alive after ${timeout}s, sending SIGKILL"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$pidfile"
    say "$name: stopped"
}

# wait_healthy <name> <pidfile> <logfile> <timeout> <check-fn...>
# Polls check-fn until it succeeds; bails out early when the process dies, so a crash is reported at once
# instead of after the full timeout. On failure the log tail explains why.
wait_healthy() {
    local name="$1" pidfile="$2" logfile="$3" timeout="$4"
    shift 4
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        # Liveness by pid alone: until the child has exec'd, its command line is still the
        # forking shell's, so the marker check would call a process that is starting dead.
        if ! kill -0 "$(cat "$pidfile" 2>/dev/null)" 2>/dev/null; then
            fail_with_log "$name exited during startup" "$logfile"
        fi
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.5
    done
    fail_with_log "$name not healthy after ${timeout}s (still running; see log)" "$logfile"
}

fail_with_log() {
    local msg="$1" logfile="$2"
    {
        printf '[%s] ERROR: %s\n' "${STACK_NAME:-?}" "$msg"
        printf -- '----- last 40 lines of %s -----\n' "$logfile"
        tail -n 40 "$logfile" 2>/dev/null || echo "(no log)"
        printf -- '-----\n'
    } >&2
    exit 1
}

# Refuses to start when a foreign process holds our port: starting anyway would either crash or,
# worse, make the health check pass against somebody else's server.
ensure_port_free() {
    local name="$1" port="$2" holders
    if port_open "$port"; then
        die "$name: port $port is already in use by another process (not started by this stack); stop it or pick another STACK_NAME"
    fi
    # Nothing accepts connections, yet the port can still be taken: by a client that connected to
    # itself while retrying it, or by the TIME_WAIT such a client leaves. The server would die with a
    # bare "Address already in use"; name the holder instead.
    if ! holders="$("$PY" "$REPO_ROOT/deploy/port_holders.py" "$port")"; then
        die "$name: port $port cannot be bound although nothing listens on it; held by $holders"
    fi
}

# The local PostgreSQL's passwords, one file per role (the superuser postgres and each service's role),
# made by deploy/stack.sh on the first start; readable by their owner only.
pg_credentials() { echo "$STACK_DIR/postgres/credentials"; }

pg_new_password() (
    local dir
    dir="$(pg_credentials)"
    umask 077
    mkdir -p "$dir"
    chmod 700 "$dir"
    # 192 random bits in hex: nothing a URL or a connection string would need to quote.
    head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$1.password.tmp"
    mv "$dir/$1.password.tmp" "$dir/$1.password"
)

# The services' HTTP secrets (deploy/env/*.env): the key the read APIs sign their cursors with
# (CURSOR_SECRET_FILE) and the one the invoices service makes hosted page tokens with
# (HOSTED_LINK_SECRET_FILE). One each per stack, made on the first start and kept.
ensure_http_secrets() {
    ensure_secret "$CURSOR_SECRET_FILE" && ensure_secret "$HOSTED_LINK_SECRET_FILE"
}

# ensure_secret <file>: 256 random bits in hex, made once, readable by its owner only.
ensure_secret() (
    [[ -s "$1" ]] && exit 0
    umask 077
    mkdir -p "$(dirname "$1")"
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1.tmp"
    mv "$1.tmp" "$1"
)

# pg_role_url <role>: the URL a service connects with: its own role, password and database.
pg_role_url() {
    local password
    password="$(cat "$(pg_credentials)/$1.password")" || return 1
    echo "postgresql://$1:$password@127.0.0.1:$POSTGRES_PORT/$1"
}

# render_template <template> <output> VAR...: replaces @VAR@ with the variable's value.
render_template() {
    local template="$1" out="$2"
    shift 2
    local content var val
    content="$(cat "$template")"
    for var in "$@"; do
        val="${!var}"
        # Quoted replacement: bash 5.2 would otherwise expand '&' in values to the matched text.
        content="${content//"@${var}@"/"$val"}"
    done
    mkdir -p "$(dirname "$out")"
    printf '%s\n' "$content" >"$out.tmp"
    mv "$out.tmp" "$out"
}

# Stack components, and services, are independent of each other, so they start and stop side by
# side: on two cores this halves `make test`'s fixed cost. Any one's failure fails the whole call.
in_parallel() {
    local action="$1" pids=() failed=0 pid
    shift
    for c in "$@"; do
        "$action" "$c" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    return "$failed"
}
