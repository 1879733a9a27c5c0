#!/usr/bin/env bash
# Native local infrastructure (no Docker): Kafka (KRaft), FerretDB (SQLite), PostgreSQL, SMTP catcher,
# Prometheus.
#
#   deploy/stack.sh up|down|status|restart [kafka|ferretdb|postgres|smtp|prometheus ...]   (default: all)
#   deploy/stack.sh integrator NAME [--read-events]   Kafka user integrator.NAME, its topics and ACLs
#
# STACK_NAME (default dev) selects deploy/env/$STACK_NAME.env: ports and $STACK_DIR. Each component keeps
# its pid file, log, rendered config and data in $STACK_DIR/<component>/. Binaries and jars are cached
# under .cache/ and fetched/built only when missing, so `up` is fast and offline after the first run.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
load_env

ALL_COMPONENTS=(kafka ferretdb postgres smtp prometheus)

KAFKA_VERSION=3.9.2 # must match deploy/kafka/pom.xml
KAFKA_LIBS="$REPO_ROOT/.cache/kafka-$KAFKA_VERSION/libs"
FERRETDB_BIN="$REPO_ROOT/.cache/bin/ferretdb"
# FerretDB's version is pinned by deploy/ferretdb/go.mod/go.sum; the stamp rebuilds the binary when they change.
FERRETDB_STAMP="$REPO_ROOT/.cache/bin/ferretdb.gomod.sha256"
# PostgreSQL comes from Debian's packages, one major version for every machine (Debian 12 ships 15). A data
# dir is tied to the major that initialised it, so bumping this needs a fresh (or pg_upgrade'd) data dir.
POSTGRES_MAJOR=15
POSTGRES_BIN="/usr/lib/postgresql/$POSTGRES_MAJOR/bin"
# One database per service, each owned by the service's own role of the same name; created when missing on
# every `up`.
POSTGRES_DATABASES=(invoices numbering payments mailer)

# ---------------------------------------------------------------- per-component facts
comp_dir() { echo "$STACK_DIR/$1"; }
comp_pidfile() { echo "$STACK_DIR/$1/$1.pid"; }
comp_log() { echo "$STACK_DIR/$1/$1.log"; }
# A string that only our process of that component has in its command line (see pid_of).
comp_marker() {
    case "$1" in
    kafka) echo "$STACK_DIR/kafka/server.properties" ;;
    ferretdb) echo "file:$STACK_DIR/ferretdb/data/" ;;
    postgres) echo "-D $(pg_home)/data " ;;
    smtp) echo "deploy/smtp/catcher.py --dir $SMTP_CATCHER_DIR" ;;
    prometheus) echo "$STACK_DIR/prometheus/prometheus.yml" ;;
    esac
}
comp_port() {
    case "$1" in
    kafka) echo "$KAFKA_PORT" ;;
    ferretdb) echo "$FERRETDB_PORT" ;;
    postgres) echo "$POSTGRES_PORT" ;;
    smtp) echo "$SMTP_PORT" ;;
    prometheus) echo "$PROMETHEUS_PORT" ;;
    esac
}
comp_endpoint() {
    case "$1" in
    kafka) echo "$KAFKA_BOOTSTRAP_SERVERS" ;;
    ferretdb) echo "$MONGODB_URL" ;;
    postgres) echo "$POSTGRES_URL (databases: ${POSTGRES_DATABASES[*]})" ;;
    smtp) echo "smtp://$SMTP_HOST:$SMTP_PORT  http://127.0.0.1:$SMTP_CATCHER_HTTP_PORT/messages" ;;
    prometheus) echo "http://127.0.0.1:$PROMETHEUS_PORT" ;;
    esac
}

running_pid() { pid_of "$(comp_pidfile "$1")" "$(comp_marker "$1")"; }

# ---------------------------------------------------------------- health checks (quiet; status via exit code)
healthy_kafka() {
    port_open "$KAFKA_PORT" &&
        PYTHONPATH="$REPO_ROOT" "$PY" "$REPO_ROOT/deploy/provision_kafka.py" --check
}
healthy_ferretdb() {
    port_open "$FERRETDB_PORT" &&
        "$PY" -c 'import sys, pymongo; pymongo.MongoClient(sys.argv[1], serverSelectionTimeoutMS=1500).admin.command("ping")' "$MONGODB_URL"
}
healthy_postgres() {
    port_open "$POSTGRES_PORT" && [[ "$(pg_sql -c 'select 1')" == 1 ]]
}
healthy_smtp() {
    port_open "$SMTP_PORT" && http_ok "http://127.0.0.1:$SMTP_CATCHER_HTTP_PORT/healthz"
}
healthy_prometheus() {
    http_ok "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

# ---------------------------------------------------------------- install / build (cached, only when missing)
ensure_kafka_libs() {
    [[ -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] && return 0
    say "kafka: fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
    # Copy into a temp dir and rename, so an interrupted download never looks like a complete cache.
    local tmp="$KAFKA_LIBS.tmp.$$"
    rm -rf "$tmp"
    mvn -B -q -Dstyle.color=never -f "$REPO_ROOT/deploy/kafka/pom.xml" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp" || die "kafka: maven could not fetch the broker jars"
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
}

ensure_ferretdb_bin() {
    local want
    want="$(cat "$REPO_ROOT/deploy/ferretdb/go.mod" "$REPO_ROOT/deploy/ferretdb/go.sum" "$REPO_ROOT/deploy/ferretdb/main.go" | sha256sum | cut -d' ' -f1)"
    if [[ -x "$FERRETDB_BIN" ]]; then
        # A binary built before the stamp existed is trusted once and stamped, instead of a slow rebuild.
        [[ -f "$FERRETDB_STAMP" ]] || echo "$want" >"$FERRETDB_STAMP"
        [[ "$(cat "$FERRETDB_STAMP")" == "$want" ]] && return 0
    fi
    say "ferretdb: building from deploy/ferretdb (go install; first run only, takes a minute)"
    mkdir -p "$(dirname "$FERRETDB_BIN")"
    (cd "$REPO_ROOT/deploy/ferretdb" && GOBIN="$(dirname "$FERRETDB_BIN")" go install .) ||
        die "ferretdb: go build failed"
    echo "$want" >"$FERRETDB_STAMP"
}

# apt_install <component> <package...>: installs Debian packages, through sudo when not root. Packages that
# ship a system service (prometheus on :9090, postgresql's cluster on :5432) must not start it: it would take
# a port the stack uses or run a server nobody asked for, so a policy-rc.d forbids service starts meanwhile.
# Machine-wide lock: components start in parallel and checkouts share the machine, and a second apt-get
# would fail on dpkg's lock or remove the policy-rc.d while the first is still installing.
apt_install() (
    local name="$1"
    shift
    local sudo=""
    [[ "$(id -u)" == 0 ]] || sudo="sudo"
    exec 7>"${TMPDIR:-/tmp}/invoicing-apt-install.lock"
    flock -w 600 7 || die "$name: another apt-get install of this project is still running"
    say "$name: not installed, installing the Debian package(s) $* (first run only)"
    local added_policy=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod +x /usr/sbin/policy-rc.d
        added_policy=1
    fi
    local ok=0
    # Fresh machines/containers often have empty package lists: update only when the first try fails.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@" || {
        $sudo apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "$@"
    } || ok=1
    [[ -z "$added_policy" ]] || $sudo rm -f /usr/sbin/policy-rc.d
    return "$ok"
)

ensure_prometheus() {
    command -v prometheus >/dev/null && command -v promtool >/dev/null && return 0
    apt_install prometheus prometheus || die "prometheus: apt-get install prometheus failed"
    # Belt and braces: if a system service did start anyway, say so (we do not stop what we did not start).
    if port_open 9090 && [[ "$STACK_NAME" == dev ]]; then
        say "prometheus: WARNING: something already listens on :9090 (the Debian prometheus service?)"
    fi
}

ensure_postgres() {
    if [[ ! -x "$POSTGRES_BIN/postgres" ]]; then
        local others
        others="$(ls /usr/lib/postgresql 2>/dev/null | paste -sd ' ' || true)"
        apt_install postgres "postgresql-$POSTGRES_MAJOR" ||
            die "postgres: PostgreSQL $POSTGRES_MAJOR is pinned (POSTGRES_MAJOR in deploy/stack.sh) but not installed, and" \
                "apt-get install postgresql-$POSTGRES_MAJOR failed; installed majors: ${others:-none}," \
                "this release's default: $(apt-cache policy postgresql 2>/dev/null | awk '/Candidate/ {sub(/\+.*/, "", $2); print $2}')"
    fi
    local version
    version="$("$POSTGRES_BIN/postgres" --version)" || die "postgres: $POSTGRES_BIN/postgres does not run"
    # "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    [[ "$version" =~ \)\ $POSTGRES_MAJOR\. ]] ||
        die "postgres: $POSTGRES_BIN/postgres is '$version', not PostgreSQL $POSTGRES_MAJOR as pinned"
    if [[ "$(id -u)" == 0 ]] && ! id postgres >/dev/null 2>&1; then
        die "postgres: the OS user 'postgres' does not exist (the Debian package creates it; reinstall postgresql-common)"
    fi
}

# PostgreSQL refuses to run as root: as root we run it as the unprivileged OS user `postgres`, otherwise as
# ourselves. setpriv execs the command in place, whereas runuser and su stay behind as its parent: the pid
# that start_bg records is then the postmaster's own, and `down` signals the postmaster itself.
AS_POSTGRES=()
[[ "$(id -u)" != 0 ]] || AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups --)

# Where the server's own files live: its data directory and its socket directory. As root the server runs as
# the OS user postgres, who must reach them, and a checkout may lie where only root can go (a mode-700 home):
# so they live in a directory of the stack's own under the postgres user's home (/var/lib/postgresql, made
# by the Debian package; not /var/tmp, whose files systemd-tmpfiles deletes after 30 days, nor /run, which a
# reboot empties), named after a digest of the stack dir's path. $STACK_DIR/postgres/data links to it. As
# anyone else the server runs as ourselves and everything stays in $STACK_DIR/postgres.
pg_home() {
    if [[ "$(id -u)" == 0 ]]; then
        local home
        home="$(getent passwd postgres | cut -d: -f6)"
        echo "${home:-/var/lib/postgresql}/invoicing-stacks/$(printf '%s' "$STACK_DIR" | sha256sum | cut -c1-16)"
    else
        echo "$STACK_DIR/postgres"
    fi
}

# pg_sql <psql args...>: a query as the superuser over TCP with its own password, unaligned and quiet (the
# health check uses it).
pg_sql() {
    PGPASSWORD="$(cat "$(pg_credentials)/postgres.password")" PGCONNECT_TIMEOUT=3 \
        "$POSTGRES_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres "$@"
}

# ---------------------------------------------------------------- start per component
# ensure_password <principal>: its password file under $KAFKA_CREDENTIALS_DIR, made on first use (random,
# readable by us alone) and kept; deploy/provision_kafka.py makes the other principals' the same way.
ensure_password() {
    local file="$KAFKA_CREDENTIALS_DIR/$1.password"
    (
        umask 077
        mkdir -p "$KAFKA_CREDENTIALS_DIR"
        chmod 700 "$KAFKA_CREDENTIALS_DIR"
        if [[ ! -s "$file" ]]; then
            python3 -c 'import secrets; print(secrets.token_urlsafe(32))' >"$file.tmp" && mv "$file.tmp" "$file"
        fi
    )
    cat "$file"
}

start_kafka() {
    local dir cluster_id_file props
    dir="$(comp_dir kafka)"
    props="$dir/server.properties"
    ensure_kafka_libs
    KAFKA_DATA_DIR="$dir/data"
    mkdir -p "$KAFKA_DATA_DIR"
    # The broker authenticates itself to its own listeners: as the super user `admin` (SCRAM, on the client
    # listener) and `controller` (PLAIN, on the controller listener). The rendered file holds both passwords.
    KAFKA_ADMIN_PASSWORD="$(ensure_password admin)"
    KAFKA_CONTROLLER_PASSWORD="$(ensure_password controller)"
    (umask 077 && render_template "$REPO_ROOT/deploy/kafka/server.properties.template" "$props" \
        KAFKA_PORT KAFKA_CONTROLLER_PORT KAFKA_DATA_DIR KAFKA_ADMIN_PASSWORD KAFKA_CONTROLLER_PASSWORD)
    chmod 600 "$props"

    # The cluster id is generated once per stack and kept: re-formatting with a new id would make the
    # broker refuse its own data dir.
    cluster_id_file="$dir/cluster.id"
    if [[ ! -s "$cluster_id_file" ]]; then
        # Kafka's own ids never start with '-' (its option parser would take one for a flag), and
        # neither do ours: one in 64 random ids would otherwise break the format step.
        python3 -c 'import base64, uuid
while (cluster_id := base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")).startswith("-"):
    pass
print(cluster_id)' >"$cluster_id_file"
    fi
    # Storage formatted before the broker had authentication has no `admin` user, and the broker could not
    # even authenticate to itself: the test stack's data is throwaway and formatted again; a dev stack's is
    # kept, with what to do.
    local scram_stamp="$KAFKA_DATA_DIR/.scram-admin"
    if [[ -f "$KAFKA_DATA_DIR/meta.properties" && ! -f "$scram_stamp" ]]; then
        if [[ "$STACK_NAME" == test || "${KAFKA_REFORMAT:-0}" == 1 ]]; then
            say "kafka: $KAFKA_DATA_DIR was formatted without SCRAM users; formatting it again (its records are dropped)"
            rm -rf "$KAFKA_DATA_DIR"
            mkdir -p "$KAFKA_DATA_DIR"
        else
            die "kafka: $KAFKA_DATA_DIR was formatted before Kafka had authentication (no SCRAM admin user)." \
                "Its records are short-lived (24 h): run 'KAFKA_REFORMAT=1 make up' to format it again with the" \
                "users and ACLs (the services' databases are kept), or delete $KAFKA_DATA_DIR yourself"
        fi
    fi
    if [[ ! -f "$KAFKA_DATA_DIR/meta.properties" ]]; then
        say "kafka: formatting storage (cluster id $(cat "$cluster_id_file")) with the SCRAM-SHA-512 user admin"
        # --add-scram bootstraps the super user into the metadata log, so the broker can authenticate to
        # itself and deploy/provision_kafka.py can create the others.
        java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$REPO_ROOT/deploy/kafka/log4j.properties" \
            kafka.tools.StorageTool format --cluster-id="$(cat "$cluster_id_file")" -c "$props" \
            --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]" \
            >>"$(comp_log kafka)" 2>&1 || fail_with_log "kafka: storage format failed" "$(comp_log kafka)"
        touch "$scram_stamp"
    fi

    start_bg "$(comp_pidfile kafka)" "$(comp_log kafka)" \
        java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$REPO_ROOT/deploy/kafka/log4j.properties" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$props"
}

start_ferretdb() {
    ensure_ferretdb_bin
    mkdir -p "$(comp_dir ferretdb)/data"
    start_bg "$(comp_pidfile ferretdb)" "$(comp_log ferretdb)" \
        "$FERRETDB_BIN" -listen-addr "127.0.0.1:$FERRETDB_PORT" \
        -sqlite-url "file:$STACK_DIR/ferretdb/data/" -log-level warn
}

start_smtp() {
    mkdir -p "$SMTP_CATCHER_DIR"
    # cd so the relative script path (our pid_of marker) resolves; -u so the log is not block-buffered.
    (cd "$REPO_ROOT" && start_bg "$(comp_pidfile smtp)" "$(comp_log smtp)" \
        "$PY" -u deploy/smtp/catcher.py --dir "$SMTP_CATCHER_DIR")
}

start_prometheus() {
    ensure_prometheus
    local dir config alerts
    dir="$(comp_dir prometheus)"
    config="$dir/prometheus.yml"
    alerts="$REPO_ROOT/deploy/prometheus/alerts.yml"
    # alerts.yml is owned by someone else and may not exist yet; a rule_files entry pointing at a
    # missing file would make promtool reject the config, so it is only added when the file is there.
    if [[ -f "$alerts" ]]; then
        RULE_FILES=$'rule_files:\n  - '"\"$alerts\""
    else
        RULE_FILES="# rule_files omitted: $alerts does not exist yet"
    fi
    render_template "$REPO_ROOT/deploy/prometheus/prometheus.local.yml.template" "$config" \
        RULE_FILES INVOICES_INTERNAL_PORT NUMBERING_INTERNAL_PORT PAYMENTS_INTERNAL_PORT MAILER_INTERNAL_PORT
    promtool check config "$config" >>"$(comp_log prometheus)" 2>&1 ||
        fail_with_log "prometheus: promtool rejected $config" "$(comp_log prometheus)"
    mkdir -p "$dir/data"
    start_bg "$(comp_pidfile prometheus)" "$(comp_log prometheus)" \
        prometheus --config.file="$config" --storage.tsdb.path="$dir/data" \
        --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --log.level=warn
}

start_postgres() {
    ensure_postgres
    local dir home data run log
    dir="$(comp_dir postgres)"
    home="$(pg_home)"
    data="$home/data"
    run="$home/run"
    log="$(comp_log postgres)"
    mkdir -p "$dir"
    touch "$log"
    if [[ "$home" != "$dir" ]]; then
        # $dir/data is the link to the data dir. Without it the stack dir is new (or was deleted for a clean
        # slate): a data dir left at $home belonged to an earlier stack dir of this path, and goes.
        if [[ -d "$dir/data" && ! -L "$dir/data" ]]; then
            # A stack from before the data moved out of the stack dir: it moves along.
            rm -rf "$data"
            mkdir -p "$home"
            mv "$dir/data" "$data"
        elif [[ ! -L "$dir/data" && -e "$data/postmaster.pid" ]] &&
            kill -0 "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null; then
            die "postgres: $data, the data of a deleted stack dir at $STACK_DIR, still has a server running" \
                "(pid $(head -n 1 "$data/postmaster.pid")); stop it first"
        elif [[ ! -L "$dir/data" ]]; then
            rm -rf "$data"
        fi
        mkdir -p "$home" "$run"
        chown -R postgres:postgres "$home"
        # The stack's own part (pid file, log, credentials) stays ours; stacks before this kept theirs postgres'.
        chown "$(id -u):$(id -g)" "$dir"
        chmod 700 "$home"
        ln -sfn "$data" "$dir/data"
        "${AS_POSTGRES[@]}" test -w "$run" ||
            die "postgres: the OS user postgres cannot write $run; check the permissions of $(dirname "$home")"
    fi
    mkdir -p "$run"
    if [[ -f "$data/PG_VERSION" && "$(cat "$data/PG_VERSION")" != "$POSTGRES_MAJOR" ]]; then
        die "postgres: $data was initialised by PostgreSQL $(cat "$data/PG_VERSION"), the stack runs" \
            "$POSTGRES_MAJOR; delete $data for an empty one, or pg_upgrade it"
    fi
    local durable=1
    [[ "${POSTGRES_DURABLE:-1}" == 1 ]] || durable=0
    if [[ ! -f "$data/PG_VERSION" ]]; then
        say "postgres: initdb $data (first run only)"
        rm -rf "$data"
        local nosync=()
        ((durable)) || nosync=(--no-sync)
        # cd: the tools complain when started in a directory (root's home) the postgres user cannot read.
        (cd "$home" && "${AS_POSTGRES[@]}" "$POSTGRES_BIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 "${nosync[@]}") >>"$log" 2>&1 ||
            fail_with_log "postgres: initdb failed" "$log"
        rm -f "$(pg_credentials)/postgres.password" # a new cluster: its superuser gets a password below
    fi
    # The superuser's password, made on the first start (also for a cluster from before passwords) and set
    # in single-user mode, before the server takes connections.
    if [[ ! -s "$(pg_credentials)/postgres.password" ]]; then
        pg_new_password postgres
        say "postgres: setting the superuser's password ($(pg_credentials)/postgres.password)"
        printf "ALTER ROLE postgres PASSWORD '%s';\n" "$(cat "$(pg_credentials)/postgres.password")" |
            (cd "$home" && "${AS_POSTGRES[@]}" "$POSTGRES_BIN/postgres" --single -D "$data" \
                -c password_encryption=scram-sha-256 postgres) >>"$log" 2>&1 ||
            fail_with_log "postgres: setting the superuser's password failed" "$log"
    fi
    # Password authentication (SCRAM) for every connection over TCP, which only this machine can open
    # (listen_addresses below). Over the Unix socket the OS user that runs the server is the superuser
    # (peer): the way in for a person at the machine.
    printf '%s\n' "# Written by deploy/stack.sh on every start." \
        "local all postgres peer map=stack" \
        "local all all scram-sha-256" \
        "host  all all 127.0.0.1/32 scram-sha-256" >"$data/pg_hba.conf"
    local server_user
    server_user="$(id -un)"
    [[ "$(id -u)" != 0 ]] || server_user=postgres
    printf '%s\n' "# Written by deploy/stack.sh on every start." "stack $server_user postgres" >"$data/pg_ident.conf"
    [[ "$(id -u)" != 0 ]] || chown postgres:postgres "$data/pg_hba.conf" "$data/pg_ident.conf"

    local settings=(
        -c listen_addresses=127.0.0.1
        -c password_encryption=scram-sha-256
        -c max_connections=200 # four services' connection pools, tests and psql, with room to spare
        # A 2-core machine with plenty of memory shared with Kafka and the services: modest, not 25% of RAM.
        -c shared_buffers=256MB
        -c effective_cache_size=2GB
        -c work_mem=8MB
        -c maintenance_work_mem=128MB
        -c max_wal_size=1GB
    )
    if ((!durable)); then
        # POSTGRES_DURABLE=0 (the test stack): its data is throwaway, so skip every flush to disk; a crash
        # of the machine may corrupt the cluster, which is fine for data recreated by every test run.
        settings+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
    fi
    # A Unix socket path may not exceed 107 bytes; a deep checkout listens on TCP only (all clients use TCP).
    local sockets="$run"
    if ((${#run} + ${#POSTGRES_PORT} + 10 > 107)); then
        say "postgres: $run is too long for a Unix socket path; TCP only"
        sockets=""
    fi
    (cd "$home" && start_bg "$(comp_pidfile postgres)" "$log" \
        "${AS_POSTGRES[@]}" "$POSTGRES_BIN/postgres" -D "$data" -p "$POSTGRES_PORT" -k "$sockets" "${settings[@]}")
}

# Seconds to wait for health; the JVM on 2 cores is the slow one.
health_timeout() {
    case "$1" in
    kafka) echo "${KAFKA_START_TIMEOUT:-120}" ;;
    *) echo "${STACK_START_TIMEOUT:-45}" ;;
    esac
}

post_up() {
    if [[ "$1" == kafka ]]; then
        # Idempotent and cheap: topics, users and ACLs from contracts/topics.py; also repairs a stack whose
        # topics or ACLs were deleted by hand.
        PYTHONPATH="$REPO_ROOT" "$PY" "$REPO_ROOT/deploy/provision_kafka.py" | sed "s/^/[$STACK_NAME] kafka: /" ||
            die "kafka: provisioning topics, users and ACLs failed"
    fi
    if [[ "$1" == postgres ]]; then
        pg_provision || die "postgres: provisioning the service roles and databases failed"
    fi
}

# Each service gets a role of its own (the database's name) with a random password made on the first start
# ($STACK_DIR/postgres/credentials/<role>.password, mode 600), and owns its database and nothing else: no
# superuser, no CREATEDB or CREATEROLE, and no CONNECT on any other database. Idempotent: every `up` sets
# the roles' rights and passwords again, and hands the service databases (and their tables, from stacks
# whose services connected as the superuser) to their roles.
pg_provision() {
    local db
    for db in "${POSTGRES_DATABASES[@]}"; do
        [[ -s "$(pg_credentials)/$db.password" ]] || pg_new_password "$db"
        pg_sql -v role="$db" -v password="$(cat "$(pg_credentials)/$db.password")" >/dev/null <<'SQL' || return 1
SELECT format('CREATE ROLE %I', :'role') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec
ALTER ROLE :"role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT
    PASSWORD :'password';
SQL
    done
    # POSTGRES_RESET_DATABASES=1 (run-tests.sh when it owns the stack): start every database empty.
    if [[ "${POSTGRES_RESET_DATABASES:-0}" == 1 ]]; then
        say "postgres: dropping ${POSTGRES_DATABASES[*]} for a clean slate"
        pg_sql -v dbs="${POSTGRES_DATABASES[*]}" >/dev/null <<'SQL' || return 1
SELECT format('DROP DATABASE IF EXISTS %I WITH (FORCE)', d) FROM unnest(string_to_array(:'dbs', ' ')) AS d
\gexec
SQL
    fi
    pg_sql -v dbs="${POSTGRES_DATABASES[*]}" >/dev/null <<'SQL' || return 1
SELECT format('CREATE DATABASE %I OWNER %I', d, d) FROM unnest(string_to_array(:'dbs', ' ')) AS d
WHERE d NOT IN (SELECT datname FROM pg_database)
\gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', d, d) FROM unnest(string_to_array(:'dbs', ' ')) AS d
\gexec
-- Only its owner (and the superuser) may connect to a database: also to the maintenance ones.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', d)
FROM unnest(string_to_array(:'dbs', ' ') || ARRAY['postgres', 'template1']) AS d
\gexec
SQL
    for db in "${POSTGRES_DATABASES[@]}"; do
        pg_sql -d "$db" -v role="$db" >/dev/null <<'SQL' || return 1
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT ALL ON SCHEMA public TO :"role";
SELECT format('ALTER TABLE %I.%I OWNER TO %I', schemaname, tablename, :'role') FROM pg_tables
WHERE schemaname = 'public' AND tableowner <> :'role'
\gexec
SQL
    done
}

up_one() {
    local c="$1" pid
    if pid="$(running_pid "$c")"; then
        if "healthy_$c" >/dev/null 2>&1; then
            say "$c: already running (pid $pid)"
            post_up "$c"
            return 0
        fi
        # Running but not answering: most likely still starting (e.g. a parallel `up`); give it the
        # normal startup window rather than killing it.
        say "$c: running (pid $pid) but not healthy yet, waiting"
    else
        rm -f "$(comp_pidfile "$c")" # stale
        ensure_port_free "$c" "$(comp_port "$c")"
        if [[ "$c" == smtp ]]; then ensure_port_free smtp-http "$SMTP_CATCHER_HTTP_PORT"; fi
        if [[ "$c" == kafka ]]; then ensure_port_free kafka-controller "$KAFKA_CONTROLLER_PORT"; fi
        say "$c: starting"
        "start_$c"
    fi
    local t0=$SECONDS
    wait_healthy "$c" "$(comp_pidfile "$c")" "$(comp_log "$c")" \
        "$(health_timeout "$c")" "healthy_$c"
    say "$c: healthy after $((SECONDS - t0))s (pid $(running_pid "$c")) at $(comp_endpoint "$c")"
    post_up "$c"
}

down_one() {
    local c="$1"
    # Kafka's controlled shutdown flushes logs; give it longer before resorting to SIGKILL.
    local timeout=15 signal=""
    [[ "$c" == kafka ]] && timeout=40
    # SIGINT to the postmaster alone is PostgreSQL's "fast" shutdown: it ends the sessions, then writes a
    # checkpoint. SIGTERM (a "smart" shutdown) would wait for every client to disconnect.
    [[ "$c" == postgres ]] && timeout=30 signal=INT
    stop_pid "$c" "$(comp_pidfile "$c")" "$(comp_marker "$c")" "$timeout" "$signal"
}

status_one() {
    local c="$1" pid state
    if pid="$(running_pid "$c")"; then
        if port_open "$(comp_port "$c")"; then state="running"; else state="starting/unhealthy"; fi
        printf '%-11s %-18s pid %-8s %s\n' "$c" "$state" "$pid" "$(comp_endpoint "$c")"
        [[ "$state" == running ]]
    else
        printf '%-11s %-18s %s\n' "$c" "stopped" "(stack $STACK_NAME)"
        return 1
    fi
}

# ---------------------------------------------------------------- main
usage() {
    echo "usage: STACK_NAME=dev|test $0 up|down|status|restart [${ALL_COMPONENTS[*]}]" >&2
    echo "       STACK_NAME=dev|test $0 integrator NAME [--read-events]" >&2
    exit 2
}

[[ $# -ge 1 ]] || usage
cmd="$1"
shift
components=("$@")
if [[ "$cmd" != integrator ]]; then
    [[ ${#components[@]} -gt 0 ]] || components=("${ALL_COMPONENTS[@]}")
    for c in "${components[@]}"; do
        [[ " ${ALL_COMPONENTS[*]} " == *" $c "* ]] || die "unknown component '$c' (known: ${ALL_COMPONENTS[*]})"
    done
fi

# Serialise up/down/restart per stack: two concurrent `up`s (e.g. `make up` in two terminals) would
# otherwise both see "not running" and race for the same ports and data dirs.
if [[ "$cmd" != status ]]; then
    mkdir -p "$STACK_DIR"
    exec 9>"$STACK_DIR/.stack.lock"
    flock -w 300 9 || die "another deploy/stack.sh is still running for stack $STACK_NAME"
fi

case "$cmd" in
up)
    require_venv
    ensure_http_secrets
    in_parallel up_one "${components[@]}" || die "stack $STACK_NAME did not come up (see above)"
    say "stack up: ${components[*]}"
    ;;
down)
    in_parallel down_one "${components[@]}"
    ;;
restart)
    in_parallel down_one "${components[@]}"
    require_venv
    in_parallel up_one "${components[@]}" || die "stack $STACK_NAME did not come up (see above)"
    ;;
integrator)
    # deploy/stack.sh integrator NAME [--read-events]: a credential for an integrator (docs/kafka-security.md).
    [[ ${#components[@]} -ge 1 ]] || die "usage: $0 integrator NAME [--read-events]"
    require_venv
    running_pid kafka >/dev/null && healthy_kafka >/dev/null 2>&1 ||
        die "kafka of stack $STACK_NAME is not running; run 'STACK_NAME=$STACK_NAME deploy/stack.sh up kafka' (or make up) first"
    PYTHONPATH="$REPO_ROOT" "$PY" "$REPO_ROOT/deploy/provision_kafka.py" integrator "${components[@]}" |
        sed "s/^/[$STACK_NAME] kafka: /"
    ;;
status)
    rc=0
    for c in "${components[@]}"; do status_one "$c" || rc=3; done
    exit "$rc"
    ;;
*) usage ;;
esac
