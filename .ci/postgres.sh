# A throwaway PostgreSQL cluster for the store's tests, sourced by `.ci/run`
# (or by a developer: `source .ci/postgres.sh`). It initialises a cluster in
# a temporary directory, listens on 127.0.0.1 only, on a free port, and
# exports ACTPOL_TEST_PG; a trap stops it and removes the directory on exit.
#
# The server binaries come from Debian's `postgresql` package, which puts
# them in /usr/lib/postgresql/<version>/bin, off PATH. As root, the cluster
# runs as the `postgres` user (the server refuses to run as root).

actpol_pg_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Runs a command as the `postgres` user (from root).
actpol_pg_as_postgres() {
    local runuser
    for runuser in "$(command -v runuser 2>/dev/null)" /usr/sbin/runuser /sbin/runuser; do
        if [ -n "$runuser" ] && [ -x "$runuser" ]; then
            "$runuser" -u postgres -- "$@"
            return
        fi
    done
    su postgres -s /bin/sh -c '"$0" "$@"' "$@"
}

# Installs Debian's server package when no server binaries are found and
# this user may (CI runs as root on a machine that may lack it).
actpol_pg_install() {
    if actpol_pg_bin >/dev/null; then
        return 0
    fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "postgres: installing Debian's postgresql package"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    actpol_pg_bin >/dev/null
}

actpol_pg_free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

actpol_pg_start() {
    local bin port dir as
    actpol_pg_install || true
    if ! bin="$(actpol_pg_bin)"; then
        echo "postgres: no initdb/pg_ctl found (install Debian's postgresql package)" >&2
        return 1
    fi
    dir="$(mktemp -d /tmp/actpol-pg.XXXXXX)"
    port="$(actpol_pg_free_port)"
    as=()
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        as=(actpol_pg_as_postgres)
    fi
    ACTPOL_PG_DIR="$dir"
    ACTPOL_PG_CTL=("${as[@]}" "$bin/pg_ctl")
    trap actpol_pg_stop EXIT
    "${as[@]}" "$bin/initdb" -D "$dir/data" -U actpol --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    # Loopback only, no Unix socket outside the cluster's own directory; the
    # cluster is for tests, so commits need not wait for the disk.
    "${ACTPOL_PG_CTL[@]}" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null \
        || { cat "$dir/server.log" >&2; return 1; }
    export ACTPOL_TEST_PG="postgres://actpol@127.0.0.1:$port/postgres"
    echo "postgres: a throwaway cluster at $ACTPOL_TEST_PG ($bin)"
}

actpol_pg_stop() {
    if [ -n "${ACTPOL_PG_DIR:-}" ]; then
        "${ACTPOL_PG_CTL[@]}" -D "$ACTPOL_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$ACTPOL_PG_DIR"
        ACTPOL_PG_DIR=
    fi
}
