#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster on loopback for payedge's tests.
#
#   eval "$(.ci/postgres.sh start)"   # prints export PAYEDGE_TEST_DATABASE_URL=… and PAYEDGE_PG_DIR=…
#   .ci/postgres.sh stop              # stops the cluster in $PAYEDGE_PG_DIR and removes it
#   .ci/postgres.sh halt | resume     # stops / restarts the server, keeping its data
#                                     # (pgstore's restart test uses these)
#
# Needs initdb/pg_ctl (PostgreSQL 13+). Where they are missing and we are root,
# Debian's postgresql package is installed. initdb refuses to run as root, so as
# root the cluster runs as the 'postgres' user (created if missing).
# Everything else goes to stderr so that stdout stays eval-able.
set -euo pipefail

log() { printf 'postgres.sh: %s\n' "$*" >&2; }

find_bin() {
	local b
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		dirname "$(readlink -f "$(command -v initdb)")"; return 0
	fi
	for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$b/initdb" ] && { echo "$b"; return 0; }
	done
	return 1
}

as_owner() { # run a command as the cluster owner
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

start() {
	local bin
	if ! bin=$(find_bin); then
		if [ "$(id -u)" -ne 0 ]; then log "initdb not found and not root: install PostgreSQL"; exit 1; fi
		log "installing Debian's postgresql package"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
		bin=$(find_bin) || { log "postgresql installed but initdb not found"; exit 1; }
	fi
	if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin postgres
	fi
	local dir; dir=$(mktemp -d /tmp/payedge-pg.XXXXXX)
	chmod 0755 "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
	as_owner "$bin/initdb" -D "$dir/data" -U payedge --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
		|| { cat "$dir/initdb.log" >&2; log "initdb failed"; exit 1; }
	local port ok=""
	for port in $(shuf -i 20000-60000 -n 8); do
		local opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200"
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >&2; then
			ok=$port; echo "$opts" >"$dir/opts"; break
		fi
		log "port $port failed; trying another"
	done
	[ -n "$ok" ] || { cat "$dir/server.log" >&2; log "server did not start"; exit 1; }
	as_owner "$bin/createdb" -h 127.0.0.1 -p "$ok" -U payedge payedge_test >&2
	log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$ok, data in $dir"
	echo "export PAYEDGE_PG_DIR='$dir' PAYEDGE_PG_BIN='$bin'"
	echo "export PAYEDGE_TEST_DATABASE_URL='postgres://payedge@127.0.0.1:$ok/payedge_test?sslmode=disable'"
}

stop() {
	local dir=${PAYEDGE_PG_DIR:-} bin=${PAYEDGE_PG_BIN:-}
	[ -n "$dir" ] && [ -d "$dir/data" ] || { log "no cluster to stop"; return 0; }
	[ -n "$bin" ] || bin=$(find_bin)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	rm -rf "$dir"
}

halt() {
	local dir=${PAYEDGE_PG_DIR:?PAYEDGE_PG_DIR not set} bin=${PAYEDGE_PG_BIN:-}
	[ -n "$bin" ] || bin=$(find_bin)
	as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2
}

resume() {
	local dir=${PAYEDGE_PG_DIR:?PAYEDGE_PG_DIR not set} bin=${PAYEDGE_PG_BIN:-}
	[ -n "$bin" ] || bin=$(find_bin)
	as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$(cat "$dir/opts")" start >&2
}

case "${1:-}" in
start) start ;;
stop) stop ;;
halt) halt ;;
resume) resume ;;
*) echo "usage: $0 start|stop|halt|resume" >&2; exit 2 ;;
esac
