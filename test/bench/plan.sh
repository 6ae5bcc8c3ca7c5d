#!/usr/bin/env bash
# What migrate_plan and the progress view cost (as root, like run.sh):
#
#   test/bench/plan.sh
#   N=1000 REPS=7 CALLS=21 test/bench/plan.sh      (the defaults)
#
# On the benchmark's own cluster (common.sh: default settings, durable
# commits) and gen.pl's set of N files:
#
# 1. migrate_plan(dir) against migrate_status(dir) on the same directory,
#    all N files pending: in an open session as psql's \timing sees them
#    (CALLS calls of each, alternating, after one warm-up call of each:
#    the first call of a session reads every file, the second keeps the
#    files' statements and its plan's classification, which the later
#    ones use while the catalog does not change; the set's files older
#    than the two seconds after which a session may keep them), and in a
#    new session
#    each (the wall time of psql -c, which reads every file once).  Both
#    are counted on the server (SELECT count(*)), so that the plan's three
#    times more rows do not weigh on the client.
# 2. What the progress view costs migrate_run: CALL migrate_run(dir) of the
#    N files on a fresh database, REPS times with the cluster started with
#    shared_preload_libraries = 'morgenmigrate' (every file and statement
#    is written to shared memory) and REPS times without (nothing is),
#    interleaved (a restart between, which goes first alternating); the
#    backend's CPU time (/proc/PID/schedstat) and the CALL's wall time
#    (\timing), each in a session that loaded the library first.
#
# Prints the medians and ratios and writes them to
# test/bench/results/plan.md.
set -euo pipefail
shopt -s inherit_errexit
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

N=${N:-1000}
REPS=${REPS:-7}
CALLS=${CALLS:-21}
results=$bench/results
mkdir -p "$results"
tmp=$(mktemp -d /var/tmp/mm-bench-plan.XXXXXX)
chmod 755 "$tmp"
trap 'stop_cluster final; rm -rf "$tmp"' EXIT

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
install_extension
start_cluster
say "generating the set of $N files"
generate_sets "$N"
dir=$sets/n$N

# The median of the numbers given.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Restarts the cluster with the library preloaded ("on") or not ("off").
preload() {
	local conf=$BENCH_PGDIR/data/postgresql.conf
	sed -i '/^shared_preload_libraries/d' "$conf"
	[ "$1" = on ] && echo "shared_preload_libraries = 'morgenmigrate'" >>"$conf"
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$BENCH_PGDIR/data" -w -m fast restart \
		-l "$BENCH_PGDIR/server.log" >/dev/null
	[ "$(q -At -d postgres -c 'SHOW shared_preload_libraries')" = "$([ "$1" = on ] && echo morgenmigrate)" ] ||
		{ echo "the cluster did not restart with preloading $1" >&2; exit 1; }
}

# 1. migrate_plan against migrate_status(dir), all N files pending
preload off
fresh_db
# A session keeps what it read of a file only once the file's change time
# lies two seconds back (src/filecache.c): wait that out, or the open
# session measures files just written, which no call may keep.
sleep 3
{
	echo '\o /dev/null'
	echo '\timing on'
	for i in $(seq 0 "$CALLS"); do
		echo "SELECT count(*) FROM morgenmigrate.migrate_plan('$dir');"
		echo "SELECT count(*) FROM morgenmigrate.migrate_status('$dir');"
	done
} >"$tmp/open.sql"
q -d "$DB" -f "$tmp/open.sql" | awk '
	/^Time: / {
		k++
		if (k <= 2) next
		print (k % 2 == 1 ? "plan" : "status"), $2
	}' >"$tmp/open.tsv"
plan_open=$(median $(awk '$1 == "plan" { print $2 }' "$tmp/open.tsv"))
status_open=$(median $(awk '$1 == "status" { print $2 }' "$tmp/open.tsv"))
rows=$(q -At -d "$DB" -c "SELECT count(*) || ' rows for ' || count(DISTINCT filename) || ' files' FROM morgenmigrate.migrate_plan('$dir')")
pending=$(q -At -d "$DB" -c "SELECT count(*) FROM morgenmigrate.migrate_status('$dir') WHERE state = 'pending'")
[ "$pending" = "$N" ] || { echo "$pending files pending, not $N" >&2; exit 1; }

declare -a plan_new status_new
for i in $(seq 1 "$REPS"); do
	for what in plan status; do
		t0=$(now_us)
		q -At -d "$DB" -c "SELECT count(*) FROM morgenmigrate.migrate_$what('$dir')" >/dev/null
		t1=$(now_us)
		ms=$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.1f", d / 1000 }')
		if [ "$what" = plan ]; then plan_new+=("$ms"); else status_new+=("$ms"); fi
	done
done
say "plan/status, open session: $plan_open / $status_open ms; new session: $(median "${plan_new[@]}") / $(median "${status_new[@]}") ms"

# 2. migrate_run with and without the progress view
# Applies the set with migrate_run on the fresh database DB; prints the
# backend's CPU ms and the CALL's wall ms.
run_once() {
	{
		echo "LOAD 'morgenmigrate';"
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv MMPID :pid'
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu0"
		echo '\timing on'
		echo "CALL morgenmigrate.migrate_run('$dir');"
		echo '\timing off'
		echo "\\! cat /proc/\$MMPID/schedstat > $tmp/cpu1"
	} | q -d "$DB" -f - >"$tmp/run.out"
	rows=$(q -At -d "$DB" -c 'SELECT count(*) FROM morgenmigrate.schema_migrations')
	[ "$rows" = "$N" ] || { echo "migrate_run recorded $rows of $N files" >&2; exit 1; }
	echo "$(awk 'NR == FNR { t0 = $1; next } { printf "%.1f", ($1 - t0) / 1e6 }' "$tmp/cpu0" "$tmp/cpu1")" \
		"$(awk '/^Time: / { print $2 }' "$tmp/run.out")"
}

declare -A cpu wall
for rep in $(seq 1 "$REPS"); do
	order="on off"
	[ $((rep % 2)) = 0 ] && order="off on"
	for mode in $order; do
		preload "$mode"
		fresh_db
		read -r c w <<<"$(run_once)"
		cpu[$mode]="${cpu[$mode]:-} $c"
		wall[$mode]="${wall[$mode]:-} $w"
		say "rep $rep, progress $mode: $c ms backend CPU, $w ms wall"
	done
done

# shellcheck disable=SC2086
{
	cpu_on=$(median ${cpu[on]}); cpu_off=$(median ${cpu[off]})
	wall_on=$(median ${wall[on]}); wall_off=$(median ${wall[off]})
	echo "migrate_plan and the progress view, N=$N ($rows), PostgreSQL $PG_MAJOR, $(nproc) cores,"
	echo "$BENCH_PGDIR on $(df -T "$BENCH_PGDIR" | awk 'NR == 2 { print $2 }'), $(date -u +%Y-%m-%dT%H:%MZ),"
	echo "load average before: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "morgenmigrate: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo
	echo "| call, $N files pending | migrate_plan(dir) | migrate_status(dir) | ratio |"
	echo "|---|---:|---:|---:|"
	printf '| open session, median of %d calls | %.1f ms | %.1f ms | %.2fx |\n' "$CALLS" \
		"$plan_open" "$status_open" "$(awk -v a="$plan_open" -v b="$status_open" 'BEGIN { print a / b }')"
	printf '| new session (psql -c), median of %d | %.1f ms | %.1f ms | %.2fx |\n' "$REPS" \
		"$(median "${plan_new[@]}")" "$(median "${status_new[@]}")" \
		"$(awk -v a="$(median "${plan_new[@]}")" -v b="$(median "${status_new[@]}")" 'BEGIN { print a / b }')"
	echo
	echo "| CALL migrate_run of $N files, median of $REPS | progress off | progress on | cost |"
	echo "|---|---:|---:|---:|"
	printf '| backend CPU | %.1f ms | %.1f ms | %+.2f%% |\n' "$cpu_off" "$cpu_on" \
		"$(awk -v a="$cpu_on" -v b="$cpu_off" 'BEGIN { print (a - b) * 100 / b }')"
	printf '| wall | %.1f ms | %.1f ms | %+.2f%% |\n' "$wall_off" "$wall_on" \
		"$(awk -v a="$wall_on" -v b="$wall_off" 'BEGIN { print (a - b) * 100 / b }')"
	echo
	echo "Samples: plan/status open session: $(tr '\n' ' ' <"$tmp/open.tsv")"
	echo "Samples: plan new session: ${plan_new[*]}; status new session: ${status_new[*]}"
	echo "Samples, backend CPU ms: on:${cpu[on]}; off:${cpu[off]}"
	echo "Samples, wall ms: on:${wall[on]}; off:${wall[off]}"
} | tee "$results/plan.md"
