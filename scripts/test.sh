#!/usr/bin/env bash
# The whole test suite of morgenmigrate, on a fresh Debian 12 machine:
# installs what the tests need, builds and installs the extension, starts a
# PostgreSQL server (PG_MAJOR, 15 by default) with pg_cron, and runs the
# pg_regress tests, the isolation specs and the TAP tests, against a private
# copy of PostgreSQL (MM_WORK/root) that holds this build, so that no other
# build installed on the machine can be the one tested; then make
# installcheck as a user runs it, as postgres and as root.
#
# Each stage ends with a line "stage NAME: N passed, N failed, N skipped"
# (a test suite) or "stage NAME: ok" / "stage NAME: failed (why)" (a step
# such as a download or the build; a failed one counts as one failure and
# ends the run).  The summary lists the skipped tests with their reasons
# and their number; the last line is always "N passed, N failed", and the
# exit status is non-zero on any failure.  Each suite's output is also in
# MM_WORK/logs/SUITE.log.
#
#   scripts/test.sh                  everything, on PostgreSQL 15 (this machine's)
#   scripts/test.sh tap              only some suites: regress, isolation, tap,
#                                    root, installcheck
#   scripts/test.sh --pg 17 [suites] on PostgreSQL 17, in a Debian root of the
#                                    release that ships it (scripts/test-versions.sh)
#   scripts/test.sh --pg all         on 15, 17 and 18, with the Debian package
#                                    and the release checks
#   PROVE_TESTS=test/t/020_cron.pl scripts/test.sh tap   only some TAP tests
#   KEEP_SERVER=1 scripts/test.sh    leave the test server running afterwards
#   MM_WORK=/var/tmp/x MM_PORT=5510 scripts/test.sh   another staging place
#   MM_SUITE_TIMEOUT=600 scripts/test.sh   stop (and fail) a suite after 600 s
#                                    (2700 by default)
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
logs=$work/logs
suites=${*:-regress isolation tap root installcheck}
for suite in $suites; do
	case $suite in
		regress | isolation | tap | root | installcheck) ;;
		*) echo "unknown suite: $suite (regress, isolation, tap, root or installcheck)" >&2; exit 2 ;;
	esac
done

passed=0
failed=0
skipped=0
all_skipped=""   # "test/t/x.pl (reason)" of each skipped TAP test, one a line
stage=""         # the step under way: if the script stops in it, it failed

stop_server() {
	if [ -f "$data/postmaster.pid" ]; then
		runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
	fi
}

# Ends the run, however it ends: a step that did not finish is a failure
# (with the download's own error if it was one), then the summary and the
# closing line.
finish() {
	local rc=$?
	set +e
	[ -n "${KEEP_SERVER:-}" ] || stop_server
	if [ -n "$stage" ] || { [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; }; then
		failed=$((failed + 1))
		echo "stage ${stage:-run}: failed (${download_error:-stopped with exit status $rc; the output above says why})"
	fi
	say "summary"
	printf '%s' "$all_skipped" | sed 's/^/skipped: /'
	close_run "$skipped" "$passed" "$failed"
}
trap finish EXIT
trap 'exit 130' INT TERM

# Starts step NAME (saying WHAT it does); step_done ends it.
step() {
	stage=$1
	say "$2"
}
step_done() {
	echo "stage $stage: ok"
	stage=""
}

mkdir -p "$work"
rm -rf "$logs"

step packages "the Debian packages the tests need"
PKGS=$ADOPTION_PACKAGES install_packages
step_done
if echo " $suites " | grep -q ' tap '; then
	step npm "the npm runners of the adoption tests"
	install_npm_runners "$here"
	step_done
fi
step build "building and installing morgenmigrate into a private copy of PostgreSQL $PG_MAJOR"
say "staging the source tree in $src"
stage_tree "$here" "$src"
private_postgres "$work/root"
build_and_install "$src"
mkdir -p "$logs"
chown postgres:postgres "$logs"
step_done

# A test server of our own: a known port, pg_cron preloaded, unix socket
# only, no durability (the TAP tests start their own clusters), and the
# authentication of Debian's clusters: each OS user is let in as the role
# of its name only (peer).
step server "starting a test server on port $port"
stop_server
rm -rf "$data"
runuser -u postgres -- "$PG_BIN/initdb" -D "$data" --auth-local=peer --auth-host=scram-sha-256 \
	-E UTF8 --locale=C.UTF-8 >/dev/null
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
step_done

export PGHOST=$work PGPORT=$port PGUSER=postgres

# Runs one suite, make installcheck limited to it (by the make arguments
# that follow), in DIR as USER (root or postgres; with LANG=SUITE_LANG,
# C.UTF-8 unless set) and
# counts its tests: pg_regress of PostgreSQL 15 prints "test x ... ok" or
# "... FAILED" per test, that of 16 and later "ok 1 - x 12 ms" or
# "not ok 1 - x" (TAP), and prove prints "ok", "skipped: REASON" (a test
# whose plan is skip_all, such as one that needs Citus where it is not
# installed) or a failure per test script.  A skipped test is neither
# passed nor failed: it is listed, with its reason, and counted apart.
# A suite that runs past MM_SUITE_TIMEOUT seconds (45 minutes; a whole
# suite takes minutes) is stopped, its processes with it, and fails: a
# test that waits forever must fail the run, not hold it until CI gives up.
run_suite() {
	local name=$1 user=$2 dir=$3; shift 3
	local log=$logs/$name.log
	local limit=${MM_SUITE_TIMEOUT:-2700}
	stage=$name
	say "$name tests (as $user, in $dir; output in $log)"
	set +e
	if [ "$name" = root ]; then
		# the TAP tests that run as root, against this server (not make
		# installcheck: its TAP tests start clusters of their own, which
		# root cannot), with this build's programs first on the PATH
		(cd "$dir" && timeout -k 30 "$limit" env LANG="${SUITE_LANG:-C.UTF-8}" PGHOST="$PGHOST" \
			PGPORT="$PGPORT" PATH="$PG_BIN:$PATH" prove --timer test/root/*.pl) 2>&1 | tee "$log"
	else
		timeout -k 30 "$limit" runuser -u "$user" -- env LANG="${SUITE_LANG:-C.UTF-8}" \
			PGHOST="$PGHOST" PGPORT="$PGPORT" PGUSER="$PGUSER" PG_CONFIG="$PG_CONFIG" \
			make -C "$dir" installcheck "$@" 2>&1 | tee "$log"
	fi
	local rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo "the $name suite ran past $limit seconds (MM_SUITE_TIMEOUT) and was stopped" | tee -a "$log"
	fi
	local ok bad skip=0 these=""
	if [ "$name" = tap ] || [ "$name" = root ]; then
		ok=$(grep -cE '^(\[[0-9:]+\] )?test/(t|root)/[^ ]+\.pl \.+ ok' "$log" || true)
		bad=$(grep -E '^(\[[0-9:]+\] )?test/(t|root)/[^ ]+\.pl \.+ ' "$log" | grep -cvE '\.+ (ok|skipped: )' || true)
		# "test/t/x.pl (reason)", one a line
		these=$(sed -nE 's/^(\[[0-9:]+\] )?(test\/(t|root)\/[^ ]+\.pl) \.+ skipped: (.*)$/\2 (\4)/p' "$log")
		[ -z "$these" ] || skip=$(printf '%s\n' "$these" | wc -l)
	else
		ok=$(grep -cE '^(test|    ) .*\.\.\. ok|^ok [0-9]+ +[-+] ' "$log" || true)
		bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ +[-+] ' "$log" || true)
	fi
	if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
		bad=1   # the suite failed without naming a test: count it
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	skipped=$((skipped + skip))
	[ -z "$these" ] || all_skipped="$all_skipped$these"$'\n'
	for diffs in "$dir/regression.diffs" "$dir/output_iso/regression.diffs"; do
		if [ "$bad" -gt 0 ] && [ -s "$diffs" ]; then
			say "differences ($diffs)"
			cat "$diffs"
		fi
	done
	echo "stage $name: $ok passed, $bad failed, $skip skipped"
	stage=""
}

# make installcheck as a user runs it against a server they started (this
# one), under LANG=C: as postgres from its copy of the tree, and as root
# with PGUSER=postgres from a copy the server cannot read (and as the
# server lets root in as no role, psql runs as postgres).
run_installcheck() {
	local private=$work/private
	rm -rf "$private"
	mkdir -m 700 "$private"
	rsync -a "$src"/ "$private/src"/
	chown -R root:root "$private/src"
	rm -rf "$private/src/results" "$private/src/output_iso"
	SUITE_LANG=C run_suite installcheck-postgres postgres "$src"
	SUITE_LANG=C run_suite installcheck-root root "$private/src"
	rm -rf "$private"
}

for suite in $suites; do
	case $suite in
		regress) run_suite regress postgres "$src" ISOLATION= ;;
		isolation) run_suite isolation postgres "$src" REGRESS= ;;
		# --timer: each test's time, to see where a slow run spends it
		root) run_suite root root "$src" ;;
		tap) run_suite tap postgres "$src" REGRESS= ISOLATION= TAP_TESTS=1 PROVE_FLAGS=--timer \
			${PROVE_TESTS:+PROVE_TESTS="$PROVE_TESTS"} ;;
		installcheck) run_installcheck ;;
	esac
done
