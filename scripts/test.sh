#!/usr/bin/env bash
# The whole test suite of morgenmigrate, on a fresh Debian 12 machine:
# installs what the tests need, builds and installs the extension, starts a
# PostgreSQL server (PG_MAJOR, 15 by default) with pg_cron, and runs the
# pg_regress tests, the isolation specs and the TAP tests, against a private
# copy of PostgreSQL
# (MM_WORK/root) that holds this build, so that no other build installed on
# the machine can be the one tested.  Ends with "N passed, N failed" and
# exits non-zero on any failure.
#
#   scripts/test.sh                  everything, on PostgreSQL 15 (this machine's)
#   scripts/test.sh tap              only some suites: regress, isolation, tap
#   scripts/test.sh --pg 17 [suites] on PostgreSQL 17, in a Debian root of the
#                                    release that ships it (scripts/test-versions.sh)
#   scripts/test.sh --pg all         on 15, 17 and 18, with the Debian package
#                                    and the release checks
#   PROVE_TESTS=test/t/020_cron.pl scripts/test.sh tap   only some TAP tests
#   KEEP_SERVER=1 scripts/test.sh    leave the test server running afterwards
#   MM_WORK=/var/tmp/x MM_PORT=5510 scripts/test.sh   another staging place
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = --pg ]; then
	[ -n "${2:-}" ] || { echo "usage: $0 --pg VERSION[,VERSION...]|all [suites]" >&2; exit 2; }
	versions=${2//,/ }
	shift 2
	if [ "$versions" = all ]; then
		exec "$here/scripts/test-versions.sh" --release 15 17 18
	fi
	MM_SUITES=${*:-} exec "$here/scripts/test-versions.sh" $versions
fi
. "$here/scripts/lib.sh"
need_root "$@"
# psql, initdb and pg_ctl run as postgres: from a directory it can read
cd /

# a locale every Debian 12 machine has, whatever the caller's environment says
export LANG=C.UTF-8
unset LC_ALL LANGUAGE

work=${MM_WORK:-/var/tmp/morgenmigrate-ci}
src=$work/src
data=$work/data
port=${MM_PORT:-5499}
suites=${*:-regress isolation tap}

PKGS=$ADOPTION_PACKAGES install_packages
install_npm_runners "$here"
say "staging the source tree in $src"
stage_tree "$here" "$src"
private_postgres "$work/root"
build_and_install "$src"

# A test server of our own: a known port, pg_cron preloaded, unix socket
# only, no durability (the TAP tests start their own clusters).
stop_server() {
	if [ -f "$data/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
	fi
}
stop_server
rm -rf "$data"
say "starting a test server on port $port"
runuser -u postgres -- "$PG_BIN/initdb" -D "$data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'pg_cron'
cron.database_name = 'postgres'
fsync = off
full_page_writes = off
synchronous_commit = off
max_connections = 60
CONF
runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -l "$work/server.log" -w start >/dev/null
if [ -z "${KEEP_SERVER:-}" ]; then
	trap stop_server EXIT
fi

export PGHOST=$work PGPORT=$port PGUSER=postgres
passed=0
failed=0
all_skipped=""   # "test/t/x.pl (reason)" of each skipped TAP test, one a line
logs=$work/logs
rm -rf "$logs"; mkdir -p "$logs"
chown postgres:postgres "$logs"

# Runs one suite (make installcheck limited to it) as postgres and counts
# its tests: pg_regress of PostgreSQL 15 prints "test x ... ok" or
# "... FAILED" per test, that of 16 and later "ok 1 - x 12 ms" or
# "not ok 1 - x" (TAP), and prove prints "ok", "skipped: REASON" (a test
# whose plan is skip_all, such as one that needs Citus where it is not
# installed) or a failure per test script.  A skipped test is neither
# passed nor failed: it is listed, with its reason, and counted apart.
run_suite() {
	local name=$1; shift
	local log=$logs/$name.log
	say "$name tests"
	set +e
	runuser -u postgres -- env PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" \
		PG_CONFIG="$PG_CONFIG" make -C "$src" installcheck "$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	set -e
	local ok bad skipped=""
	if [ "$name" = tap ]; then
		ok=$(grep -cE '^(\[[0-9:]+\] )?test/t/[^ ]+\.pl \.+ ok' "$log" || true)
		bad=$(grep -E '^(\[[0-9:]+\] )?test/t/[^ ]+\.pl \.+ ' "$log" | grep -cvE '\.+ (ok|skipped: )' || true)
		# "test/t/x.pl (reason)", one a line
		skipped=$(sed -nE 's/^(\[[0-9:]+\] )?(test\/t\/[^ ]+\.pl) \.+ skipped: (.*)$/\2 (\3)/p' "$log")
	else
		ok=$(grep -cE '^(test|    ) .*\.\.\. ok|^ok [0-9]+ +[-+] ' "$log" || true)
		bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ +[-+] ' "$log" || true)
	fi
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1   # the suite failed without naming a test: count it
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ -n "$skipped" ]; then
		all_skipped="$all_skipped$skipped"$'\n'
		printf '%s: %d passed, %d failed, %d skipped\n' "$name" "$ok" "$bad" \
			"$(printf '%s\n' "$skipped" | wc -l)"
	else
		printf '%s: %d passed, %d failed\n' "$name" "$ok" "$bad"
	fi
	for diffs in "$src/regression.diffs" "$src/output_iso/regression.diffs"; do
		if [ "$bad" -gt 0 ] && [ -s "$diffs" ]; then
			say "differences ($diffs)"
			cat "$diffs"
		fi
	done
}

for suite in $suites; do
	case $suite in
		regress) run_suite regress ISOLATION= ;;
		isolation) run_suite isolation REGRESS= ;;
		# --timer: each test's time, to see where a slow run spends it
		tap) run_suite tap REGRESS= ISOLATION= TAP_TESTS=1 PROVE_FLAGS=--timer \
			${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} ;;
		*) echo "unknown suite: $suite" >&2; exit 2 ;;
	esac
done

say "summary"
# the skipped tests, then (always the last line, which
# scripts/test-versions.sh reads) the passed and failed ones
printf '%s' "$all_skipped" | sed 's/^/skipped: /'
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
