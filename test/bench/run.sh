#!/usr/bin/env bash
# The benchmark, in one command (as root, like
# scripts/test.sh):
#
#   test/bench/run.sh
#   REPS=5 NS="100 1000 10000" test/bench/run.sh      (the defaults)
#
# It installs what it needs (the extension built from this tree, dbmate
# from npm into $BENCH_CACHE, Debian's sqitch and libdbd-pg-perl), starts
# its own PostgreSQL cluster ($BENCH_PGDIR, port $BENCH_PORT, default
# settings), generates the migration sets with gen.pl, and measures, on a
# fresh database each time, the median of REPS repetitions of:
#
#   limit    psql -X -q -1 -f on one file concatenating the N files
#   apply    SELECT * FROM morgenmigrate.migrate_apply(dir)
#   run      CALL morgenmigrate.migrate_run(dir)
#   session  one psql session running BEGIN, the file (\i), an INSERT
#            into schema_migrations(filename) and COMMIT per file
#   seeds    a raw-SQL runner: psql -1 -f per file plus an INSERT into
#            schema_migrations(filename) in the same transaction
#   dbmate   dbmate migrate, the same SQL under "-- migrate:up"
#   sqitch   sqitch deploy of a plan of the N changes
#
# (from N = LARGE_N on only the runners of LARGE_RUNNERS: the others
# start a process per file, which takes many minutes at 10,000 files)
# each timed from the client (wall time of the command), then the no-op
# runs with all N applied (migrate_apply and migrate_status(dir) as psql's
# \timing sees them in an open session, median of NOOP_RUNS; each runner's
# no-op as a new process), and the backend's peak memory (memwatch.pl)
# while applying N files and the BIG_COUNT files of BIG_SIZE bytes.
# Writes test/bench/results/latest.md (and raw.tsv beside it) and prints it.
#
# A set of 10,000 files creates some 75,000 objects; applied in one
# transaction (the limit, migrate_apply) that outgrows PostgreSQL's lock
# table at its default max_locks_per_transaction (64), so when NS holds an
# N of LARGE_N or more the cluster runs with max_locks_per_transaction =
# MAX_LOCKS (1024) for every N, and the report says so.
#
# Settings: REPS (5), NS ("100 1000 10000"), RUNNERS ("limit apply run
# session seeds dbmate sqitch"), LARGE_N (5000), LARGE_RUNNERS ("limit
# apply run session"), MAX_LOCKS (1024), NOOP_RUNS (21), MEMORY (1; 0 skips the memory part),
# BIG_COUNT (200), BIG_SIZE (1048576), SKIP_INSTALL (0), KEEP_SERVER (0),
# BENCH_PGDIR (/var/tmp/mm-bench-pg), BENCH_PORT (5513), BENCH_CACHE
# (/var/tmp/mm-bench-cache), MM_WORK (/var/tmp/mm-bench: the staged build).
set -euo pipefail
shopt -s inherit_errexit
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

REPS=${REPS:-5}
NS=${NS:-100 1000 10000}
RUNNERS=${RUNNERS:-limit apply run session seeds dbmate sqitch}
LARGE_N=${LARGE_N:-5000}
LARGE_RUNNERS=${LARGE_RUNNERS:-limit apply run session}
MAX_LOCKS=${MAX_LOCKS:-1024}
NOOP_RUNS=${NOOP_RUNS:-21}
MEMORY=${MEMORY:-1}
results=$bench/results
mkdir -p "$results"
raw=$results/raw.tsv
tmp=$(mktemp -d /var/tmp/mm-bench-run.XXXXXX)
chmod 755 "$tmp"
skipped=""

cleanup() {
	stop_cluster final
	rm -rf "$tmp"
}
trap cleanup EXIT

wants() { case " $RUNNERS " in *" $1 "*) return 0 ;; esac; return 1; }

# The runners measured at set size N.
runners_for() {
	local r
	for r in $RUNNERS; do
		if [ "$1" -lt "$LARGE_N" ] || case " $LARGE_RUNNERS " in *" $r "*) true ;; *) false ;; esac; then
			echo "$r"
		fi
	done
}

# Whether some N of the run needs the larger lock table.
large_run() {
	local n
	for n in $NS; do
		[ "$n" -ge "$LARGE_N" ] && return 0
	done
	return 1
}

# The per-file psql session's script for set N: the history table, then
# BEGIN, the file, the INSERT of its name and COMMIT for each file.
session_set() {
	local n=$1 f
	{
		echo 'CREATE TABLE IF NOT EXISTS schema_migrations (filename text PRIMARY KEY, applied_at timestamptz DEFAULT now());'
		for f in "$sets/n$n"/*.sql; do
			printf 'BEGIN;\n\\i %s\nINSERT INTO schema_migrations (filename) VALUES (%s);\nCOMMIT;\n' \
				"$f" "'${f##*/}'"
		done
	} >"$sets/session$n.sql"
}

# sqitch and its PostgreSQL driver from Debian.
setup_sqitch() {
	local missing="" p
	for p in sqitch libdbd-pg-perl; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		if ! apt-get install -y -q $missing >"$tmp/apt.log" 2>&1; then
			apt-get update -q >/dev/null 2>&1 || true
			if ! apt-get install -y -q $missing >"$tmp/apt.log" 2>&1; then
				skip_runner sqitch "apt-get install$missing failed: $(tail -1 "$tmp/apt.log")"
				return
			fi
		fi
	fi
	if ! sqitch --version >/dev/null 2>&1; then
		skip_runner sqitch "sqitch is installed but does not run"
	fi
}

# Adds one sample (milliseconds) of a metric for a set size.
sample() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$raw"; }

# Runs a command and prints its wall time in milliseconds.
timed() {
	local t0 t1
	t0=$(now_us)
	"$@" >/dev/null || return
	t1=$(now_us)
	awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1000 }'
}

# What a set leaves in the database, to check that a runner applied all
# of it: relations, functions and constraints outside the runners' own
# bookkeeping.
fingerprint() {
	q -d "$DB" -Atc "SELECT (SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname NOT LIKE 'schema_migrations%')
		|| ' relations, ' || (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace)
		|| ' functions, ' || (SELECT count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conname NOT LIKE 'schema_migrations%')
		|| ' constraints'"
}

# The number of history rows a runner wrote.
history_rows() {
	case $1 in
		apply | run) q -d "$DB" -Atc "SELECT count(*) FROM morgenmigrate.schema_migrations" ;;
		seeds | dbmate | session) q -d "$DB" -Atc "SELECT count(*) FROM public.schema_migrations" ;;
		sqitch) q -d "$DB" -Atc "SELECT count(*) FROM sqitch.changes" ;;
		limit) echo "$2" ;;
	esac
}

# A raw-SQL runner: create the history table, skip the files
# it lists, run each other file in its own transaction with the INSERT of
# its name.
seeds_runner() {
	local dir=$1 f name
	declare -A applied=()
	q -d "$DB" -c "CREATE TABLE IF NOT EXISTS schema_migrations (filename text PRIMARY KEY, applied_at timestamptz DEFAULT now())"
	while read -r name; do
		[ -n "$name" ] && applied[$name]=1
	done < <(q -d "$DB" -Atc "SELECT filename FROM schema_migrations")
	for f in "$dir"/*.sql; do
		name=${f##*/}
		[ -z "${applied[$name]:-}" ] || continue
		q -1 -d "$DB" -f "$f" -c "INSERT INTO schema_migrations (filename) VALUES ('$name')"
	done
}

# Applies set N with one runner from empty (the command timed), and with
# the same runner again when there is nothing to do.
apply_with() {
	local runner=$1 n=$2
	case $runner in
		limit) q -1 -d "$DB" -f "$sets/all$n.sql" ;;
		apply) q -d "$DB" -o /dev/null -c "SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n')" ;;
		run) q -d "$DB" -c "CALL morgenmigrate.migrate_run('$sets/n$n')" ;;
		session) q -d "$DB" -f "$sets/session$n.sql" ;;
		seeds) seeds_runner "$sets/n$n" ;;
		dbmate) "$DBMATE" --url "postgres://postgres@/$DB?socket=$PGHOST&port=$PGPORT&sslmode=disable" \
			--migrations-dir "$sets/dbmate$n" --no-dump-schema migrate >/dev/null ;;
		sqitch) (cd "$sets/sqitch$n" && sqitch --quiet deploy "db:pg:$DB" >/dev/null) ;;
	esac
}

# The same as apply_with for the runners that use one backend (limit,
# apply, run), in a session that reads the backend's CPU time
# (/proc/PID/schedstat, nanoseconds on a CPU) before and after the work:
# prints the milliseconds the backend spent on a CPU, which other load on
# the machine disturbs far less than the wall time.
backend_cpu_of() {
	local runner=$1 n=$2
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv MMPID :pid'
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu0"
		case $runner in
			limit) printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$sets/all$n.sql" ;;
			apply) echo "SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n') \\g /dev/null" ;;
			run) echo "CALL morgenmigrate.migrate_run('$sets/n$n');" ;;
		esac
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu1"
	} | q -d "$DB" -f - >/dev/null
	awk 'NR == FNR { t0 = $1; next } { printf "%.3f", ($1 - t0) / 1e6 }' "$tmp/cpu0" "$tmp/cpu1"
}

# migrate_apply (nothing pending) and migrate_status(dir) as psql's
# \timing sees them, NOOP_RUNS times each in one session, alternating,
# after one warm-up call of each (the first call of a session loads the
# library and reads every file).
noop_session() {
	local n=$1 i script=$tmp/noop.sql
	{
		echo '\o /dev/null'
		echo '\timing on'
		# alternating, so that a slow moment (such as autovacuum after the
		# set was applied) hits both alike
		for i in $(seq 0 "$NOOP_RUNS"); do
			echo "SELECT * FROM morgenmigrate.migrate_apply('$sets/n$n');"
			echo "SELECT * FROM morgenmigrate.migrate_status('$sets/n$n');"
		done
	} >"$script"
	q -d "$DB" -f "$script" | awk -v n="$n" '
		/^Time: / {
			k++
			if (k <= 2) next
			printf "%s\t%s\t%s\n", (k % 2 == 1 ? "noop_apply" : "noop_status"), n, $2
		}' >>"$raw"
}

# The measurements of one set size in one repetition.
measure_set() {
	local n=$1 rep=$2 runner ms rows fp
	for runner in $(runners_for "$n"); do
		fresh_db
		ms=$(timed apply_with "$runner" "$n")
		rows=$(history_rows "$runner" "$n")
		fp=$(fingerprint)
		if [ "$rows" != "$n" ]; then
			echo "error: $runner recorded $rows of $n migrations" >&2
			exit 1
		fi
		if [ -z "${expect[$n]:-}" ]; then
			expect[$n]=$fp
		elif [ "${expect[$n]}" != "$fp" ]; then
			echo "error: $runner left $fp, expected ${expect[$n]}" >&2
			exit 1
		fi
		sample "$runner" "$n" "$ms"
		printf '  rep %d  N=%-5d %-7s %10.1f ms   (%s)\n' "$rep" "$n" "$runner" "$ms" "$fp"

		# the CPU-time run doubles the time of a large set: only below LARGE_N
		if [ "$n" -lt "$LARGE_N" ] && case $runner in limit | apply | run) true ;; *) false ;; esac; then
			fresh_db
			ms=$(backend_cpu_of "$runner" "$n")
			rows=$(history_rows "$runner" "$n")
			[ "$rows" = "$n" ] || { echo "error: $runner recorded $rows of $n migrations" >&2; exit 1; }
			sample "cpu_$runner" "$n" "$ms"
		fi
		case $runner in
			limit | session) ;;
			apply)
				noop_session "$n"
				sample noop_apply_conn "$n" "$(timed apply_with apply "$n")"
				;;
			*) sample "noop_$runner" "$n" "$(timed apply_with "$runner" "$n")" ;;
		esac
	done
}

# The backend's memory while a psql script runs: one line "vmhwm anon
# shmem" (kB).  The script is read from standard input; the watcher starts
# before it, in the same session.
memory_of() {
	local label=$1 out=$tmp/mem.$1 i
	rm -f "$out"
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv MMPID :pid'
		echo "\\! perl $bench/memwatch.pl \"\$MMPID\" $out &"
		echo 'SELECT pg_sleep(0.1);'
		cat
		echo 'SELECT pg_sleep(0.1);'
	} | q -d "$DB" -f - >/dev/null
	for i in $(seq 1 300); do
		[ -e "$out" ] && break
		sleep 0.1
	done
	cat "$out"
}

# Peak memory of a backend applying a set with migrate_apply and with the
# limit, next to one that ran SELECT 1.
measure_memory() {
	local set
	fresh_db
	echo "select1 $(echo 'SELECT 1;' | memory_of select1)" >>"$tmp/memory"
	for set in "$@"; do
		fresh_db
		echo "apply_$set $(echo "SELECT * FROM morgenmigrate.migrate_apply('$sets/$set') \\g /dev/null" |
			memory_of "apply_$set")" >>"$tmp/memory"
		fresh_db
		echo "limit_$set $(printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$sets/all${set#n}.sql" |
			memory_of "limit_$set")" >>"$tmp/memory"
		printf '  memory %-6s %s\n' "$set" "$(tail -2 "$tmp/memory" | tr '\n' ' ')"
	done
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
install_extension
wants dbmate && setup_dbmate
wants sqitch && setup_sqitch
if large_run; then
	BENCH_CONF="max_locks_per_transaction = $MAX_LOCKS"
	say "a set of $LARGE_N files or more: max_locks_per_transaction = $MAX_LOCKS for the whole run"
fi
start_cluster
# the build measured must stay the same for the whole run
so=$("$PG_BIN/pg_config" --pkglibdir)/morgenmigrate.so
so_sum=$(md5sum <"$so")

say "generating the migration sets"
# shellcheck disable=SC2086
generate_sets $NS
[ "$MEMORY" = 1 ] && generate_big
for n in $NS; do
	wants dbmate && dbmate_set "$n"
	wants sqitch && sqitch_set "$n"
	wants session && session_set "$n"
done
export SQITCH_FULLNAME=Bench SQITCH_EMAIL=bench@example.invalid

: >"$raw"
: >"$tmp/memory"
declare -A expect=()
for rep in $(seq 1 "$REPS"); do
	say "repetition $rep of $REPS"
	for n in $NS; do
		measure_set "$n" "$rep"
	done
done
if [ "$MEMORY" = 1 ]; then
	say "memory"
	# shellcheck disable=SC2046
	measure_memory $(for n in $NS; do echo "n$n"; done) big
fi

say "report"
cmd="sudo"
for v in REPS NS RUNNERS LARGE_N LARGE_RUNNERS NOOP_RUNS MEMORY BIG_COUNT BIG_SIZE; do
	[ -n "${!v:-}" ] && cmd="$cmd $v=\"${!v}\""
done
cmd="$cmd test/bench/run.sh"
{
	echo "machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)),"
	echo "  $(awk '/MemTotal/ { printf "%.1f GB", $2 / 1048576 }' /proc/meminfo) memory, $(uname -sr),"
	echo "  $(q -d postgres -Atc 'SELECT version()' | cut -d, -f1), default settings"
	echo "  (shared_buffers $(q -d postgres -Atc 'SHOW shared_buffers'), fsync $(q -d postgres -Atc 'SHOW fsync'), synchronous_commit $(q -d postgres -Atc 'SHOW synchronous_commit'))"
	large_run && echo "  except max_locks_per_transaction = $(q -d postgres -Atc 'SHOW max_locks_per_transaction') (default 64), for the one-transaction runs of N >= $LARGE_N"
	large_run && echo "  N >= $LARGE_N: only $LARGE_RUNNERS (the others start a process per file)"
	echo "  load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "storage: $BENCH_PGDIR on $(df -T "$BENCH_PGDIR" | awk 'NR == 2 { print $2 }')$(
		[ "$(cat /sys/fs/ext4/"$(basename "$(findmnt -no SOURCE --target "$BENCH_PGDIR")")"/journal_task 2>/dev/null)" = "<none>" ] &&
		echo ' without a journal')"
	echo "morgenmigrate: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here" diff --quiet HEAD -- src 2>/dev/null || echo ' with uncommitted changes in src/')"
	wants dbmate && echo "dbmate: $("$DBMATE" --version 2>&1 | head -1) (npm package, its binary)"
	wants sqitch && echo "sqitch: $(sqitch --version 2>&1 | head -1) (Debian)"
	echo "sets: $(for n in $NS; do printf '%s files (%s bytes) ' "$n" "$(cat "$sets/n$n"/*.sql | wc -c)"; done)"
	echo "reproduce: $cmd"
	echo "reps: $REPS, date: $(date -u +%Y-%m-%dT%H:%MZ)"
	printf '%s' "$skipped"
	[ "$(md5sum <"$so")" = "$so_sum" ] ||
		echo "WARNING: $so was replaced during the run: the numbers may mix two builds"
} >"$tmp/meta"
perl "$bench/report.pl" "$raw" "$tmp/memory" "$tmp/meta" "$NS" "$RUNNERS" "$sets" >"$results/latest.md"
cat "$results/latest.md"
