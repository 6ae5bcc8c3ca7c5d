# Shared helpers of test/bench/run.sh and test/bench/profile.sh (sourced,
# not run): the benchmark's own PostgreSQL cluster, fresh databases, the
# generated migration sets and their copies for dbmate and sqitch.
# Everything runs as root; the cluster runs as the postgres OS user.

bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
here=$(cd "$bench/../.." && pwd)
. "$here/scripts/lib.sh"

export LC_ALL=C
BENCH_PGDIR=${BENCH_PGDIR:-/var/tmp/mm-bench-pg}   # cluster, socket, sets
BENCH_PORT=${BENCH_PORT:-5513}
BENCH_CACHE=${BENCH_CACHE:-/var/tmp/mm-bench-cache} # npm packages
MM_WORK=${MM_WORK:-/var/tmp/mm-bench}              # staged build tree
sets=$BENCH_PGDIR/sets
export PGHOST=$BENCH_PGDIR PGPORT=$BENCH_PORT PGUSER=postgres PGDATABASE=postgres
export PGOPTIONS="-c client_min_messages=warning"

# psql as the benchmark uses it: no psqlrc, quiet, stop at the first error.
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# A private copy of the PostgreSQL installation (its binaries find their
# share and lib directories relative to themselves), with the extension
# built from this tree installed into it: another session's "make install"
# of another build cannot change what is measured.  SKIP_INSTALL=1 measures
# the extension installed on the machine instead.
install_extension() {
	local root=$BENCH_PGDIR/root
	install_packages
	stop_cluster
	say "copying PostgreSQL $PG_MAJOR into $root"
	rm -rf "$root"
	mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql"
	cp -a "/usr/lib/postgresql/$PG_MAJOR" "$root/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/"
	PG_BIN=$root/usr/lib/postgresql/$PG_MAJOR/bin
	if [ "${SKIP_INSTALL:-0}" = 1 ]; then
		say "SKIP_INSTALL=1: measuring the morgenmigrate installed on this machine"
		return
	fi
	say "building morgenmigrate in $MM_WORK/src"
	stage_tree "$here" "$MM_WORK/src"
	runuser -u postgres -- make -C "$MM_WORK/src" -s clean >/dev/null
	runuser -u postgres -- make -C "$MM_WORK/src" -s
	make -C "$MM_WORK/src" -s install DESTDIR="$root" >/dev/null
}

# Stops the benchmark's cluster if it runs, and removes its databases
# unless KEEP_SERVER=1 (then it stays up).
stop_cluster() {
	[ "${KEEP_SERVER:-0}" = 1 ] && [ -n "${1:-}" ] && return
	if [ -f "$BENCH_PGDIR/data/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$BENCH_PGDIR/data" -m fast -w stop >/dev/null 2>&1 || true
	fi
	[ -n "${1:-}" ] && rm -rf "$BENCH_PGDIR/data"
	return 0
}

# A new cluster with PostgreSQL's default settings (durable commits: the
# per-file runners pay for their commits as they would in production;
# BENCH_CONF, if set, is added to postgresql.conf),
# a unix socket only, and a template database holding the extension.
start_cluster() {
	stop_cluster
	rm -rf "$BENCH_PGDIR/data"
	mkdir -p "$BENCH_PGDIR"
	chown postgres:postgres "$BENCH_PGDIR"
	chmod 755 "$BENCH_PGDIR"
	say "starting the benchmark cluster on port $BENCH_PORT"
	runuser -u postgres -- "$PG_BIN/initdb" -D "$BENCH_PGDIR/data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$BENCH_PGDIR/data/postgresql.conf" <<-CONF
	port = $BENCH_PORT
	listen_addresses = ''
	unix_socket_directories = '$BENCH_PGDIR'
	${BENCH_CONF:-}
	CONF
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$BENCH_PGDIR/data" -l "$BENCH_PGDIR/server.log" -w start >/dev/null
	q -c "CREATE DATABASE mmbench_tpl" -d postgres
	q -d mmbench_tpl -c "CREATE EXTENSION morgenmigrate"
}

# A fresh database, named in DB, created from the template (the extension
# created, nothing applied), with dirty buffers flushed so that no
# checkpoint lands in the middle of a measurement.  Databases are only
# dropped when the cluster goes: deleting thousands of relation files just
# before a measurement would slow its file creation down (see README.md of
# this directory: ext4 without a journal skips recently deleted inodes one
# by one when it allocates a new one).
db_count=0
fresh_db() {
	db_count=$((db_count + 1))
	DB=mmbench_$db_count
	q -d postgres -c "CREATE DATABASE $DB TEMPLATE mmbench_tpl" -c "CHECKPOINT"
}

# Generates the sets the benchmark runs: sets/nN (N ordinary files),
# sets/allN.sql (the same files concatenated), and sets/big (the large
# files), readable by the server.
generate_sets() {
	local n
	mkdir -p "$sets"
	for n in "$@"; do
		rm -rf "$sets/n$n" "$sets/all$n.sql"
		"$bench/gen.pl" --count "$n" --out "$sets/n$n"
		cat "$sets/n$n"/*.sql >"$sets/all$n.sql"
	done
	chmod -R a+rX "$sets"
}

# The big set: BIG_COUNT files of about BIG_SIZE bytes.
generate_big() {
	rm -rf "$sets/big" "$sets/allbig.sql"
	"$bench/gen.pl" --big --count "${BIG_COUNT:-200}" --size "${BIG_SIZE:-1048576}" --out "$sets/big"
	cat "$sets/big"/*.sql >"$sets/allbig.sql"
	chmod -R a+rX "$sets"
}

# dbmate's copy of set N: the same SQL under "-- migrate:up".
dbmate_set() {
	local n=$1 f dir=$sets/dbmate$n
	rm -rf "$dir"; mkdir -p "$dir"
	for f in "$sets/n$n"/*.sql; do
		{ printf -- '-- migrate:up\n'; cat "$f"; printf -- '\n-- migrate:down\n'; } >"$dir/${f##*/}"
	done
}

# sqitch's project for set N: a plan of the N changes, each deploy script
# the same SQL inside BEGIN/COMMIT (sqitch's own deploy template).
sqitch_set() {
	local n=$1 f name dir=$sets/sqitch$n
	rm -rf "$dir"; mkdir -p "$dir/deploy"
	printf '[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n' >"$dir/sqitch.conf"
	{
		printf '%%syntax-version=1.0.0\n%%project=mmbench\n\n'
		for f in "$sets/n$n"/*.sql; do
			name=m$(basename "$f" .sql)
			printf '%s 2024-01-01T00:00:00Z Bench <bench@example.invalid> # %s\n' "$name" "$name"
			{ printf 'BEGIN;\n\n'; cat "$f"; printf '\nCOMMIT;\n'; } >"$dir/deploy/$name.sql"
		done
	} >"$dir/sqitch.plan"
}

# Drops a runner from this run (the caller's RUNNERS), saying why in the
# report's $skipped.
skip_runner() {
	local name=$1 why=$2
	RUNNERS=$(echo " $RUNNERS " | sed "s/ $name / /")
	skipped="$skipped- $name skipped: $why"$'\n'
	say "skipping $name: $why"
}

# dbmate from the npm registry (its package ships the binary); the
# platform binary is used directly, not through node.  Writes npm's log
# into the caller's scratch directory $tmp.
setup_dbmate() {
	local dir=$BENCH_CACHE/npm
	DBMATE=""
	if ! command -v npm >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q npm >/dev/null 2>&1 || true
	fi
	if ! command -v npm >/dev/null; then
		skip_runner dbmate "npm is not installed and could not be installed"
		return
	fi
	mkdir -p "$dir"
	if [ ! -e "$dir/node_modules/dbmate/package.json" ] &&
		! (cd "$dir" && npm install --no-audit --no-fund --silent dbmate >"$tmp/npm.log" 2>&1); then
		skip_runner dbmate "npm install dbmate failed: $(tail -1 "$tmp/npm.log")"
		return
	fi
	DBMATE=$(find "$dir/node_modules/@dbmate" -path '*/bin/dbmate' -type f 2>/dev/null | head -1)
	[ -n "$DBMATE" ] || DBMATE=$dir/node_modules/.bin/dbmate
	if ! "$DBMATE" --version >/dev/null 2>&1; then
		skip_runner dbmate "the installed dbmate does not run ($DBMATE)"
	fi
}

# Microseconds since the epoch, without a fork.
now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }
