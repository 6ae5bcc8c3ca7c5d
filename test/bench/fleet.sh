#!/usr/bin/env bash
# A fleet of tenant schemas migrated by one call (as root, like run.sh):
#
#   test/bench/fleet.sh
#   SCHEMAS=1000 SMALL=100 FILES=20 REPS=3 ALONE=3 STATUS=3 DRIFT=20 test/bench/fleet.sh   (the defaults)
#
# On the benchmark's own cluster (common.sh: default settings, durable
# commits), with FILES generated files (gen.pl: tables with keys and
# foreign keys, indexes, plpgsql functions, views, data migrations), each
# in a new database with its tenant schemas t1 .. tN:
#
# - alone: one tenant, CALL migrate_run(dir, schemas => ARRAY['t1']): one
#   schema's files alone (ALONE times per repetition, each in a new
#   database);
# - fleet: SCHEMAS tenants, CALL migrate_run(dir, schemas => all of them);
#   the time per schema is the call's divided by SCHEMAS;
# - beside: then one more tenant alone (ALONE times), in that database: one schema's
#   files alone in a database that holds SCHEMAS tenants already (its
#   catalogs, and the files of its relations, are a thousand times larger:
#   creating a relation costs more there, with any runner);
# - status: then migrate_status(dir, schemas => the SCHEMAS tenants) in that
#   database (STATUS times per repetition, each in a new session), first
#   with no drift recorded, then with DRIFT changes recorded by
#   drift_enable()'s triggers (what each status reads besides the
#   histories);
# - small: the same with SMALL tenants, for the memory;
# - psql: SCHEMAS tenants by one psql session, SET search_path and each
#   file in a transaction of its own (the same SQL with no bookkeeping), for
#   the time and the memory.
#
# Times: psql's \timing of the CALL (in a session already connected), the
# wall time of the psql session.  Memory: the backend's private memory
# (RssAnon) at the end of its session, and the growth of its peak (VmHWM,
# which also counts the shared buffers it touched) over the call; what
# each tenant beyond SMALL added to the private memory.  The repetitions
# interleave the runs.  Prints the medians and writes them to
# test/bench/results/fleet.md.
set -euo pipefail
shopt -s inherit_errexit
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

SCHEMAS=${SCHEMAS:-1000}
SMALL=${SMALL:-100}
FILES=${FILES:-20}
REPS=${REPS:-3}
ALONE=${ALONE:-3}
STATUS=${STATUS:-3}
DRIFT=${DRIFT:-20}
results=$bench/results
mkdir -p "$results"
trap 'stop_cluster final' EXIT

install_extension
start_cluster
generate_sets "$FILES"
dir=$sets/n$FILES

# Makes a fresh database (DB) with n tenant schemas t1 .. tn.
fleet_db() {
	fresh_db
	q -d "$DB" -At -c "SELECT format('CREATE SCHEMA t%s;', g) FROM generate_series(1, $1) g" | q -d "$DB"
	q -d "$DB" -c "CHECKPOINT"
}

# What a session's backend says of its memory: "mem PEAK PRIVATE" (kB).
mem_sql="SELECT 'mem ' || substring(s from 'VmHWM:[[:space:]]*([0-9]+)') || ' ' || substring(s from 'RssAnon:[[:space:]]*([0-9]+)') FROM pg_read_file('/proc/self/status') s;"

# Checks that the n schemas of database DB recorded every file.
check_applied() {
	local n=$1 applied
	applied=$(q -d "$DB" -At -c "SELECT count(*) FROM morgenmigrate.migrate_status('$dir', schemas => (SELECT array_agg('t' || g) FROM generate_series(1, $n) g)) WHERE state = 'applied'")
	[ "$applied" = $((n * FILES)) ] || { echo "fleet of $n: $applied files applied, not $((n * FILES))" >&2; exit 1; }
}

# Migrates the schemas t1 .. tn of database DB (tm .. tn: with a second
# argument m) in one call, in a new session; prints the call's time (ms),
# the growth of the backend's peak over it and its private memory at the
# end (kB).
fleet_call() {
	local n=$1 m=${2:-1} out
	out=$(q -d "$DB" -At <<-SQL
	SELECT array_agg('t' || g)::text AS schemas FROM generate_series($m, $n) g \gset
	$mem_sql
	\timing on
	CALL morgenmigrate.migrate_run('$dir', schemas => :'schemas');
	\timing off
	$mem_sql
	SQL
	)
	[ "$m" != 1 ] || check_applied "$n"
	echo "$out" | awk '/^Time: / { t = $2 } /^mem / { h[++k] = $2; a = $3 } END { printf "%s %d %d\n", t, h[2] - h[1], a }'
}

# Reads migrate_status over the schemas t1 .. tn of database DB in a new
# session, checks that it sees every file applied, and prints the call's
# time (ms).
status_call() {
	local n=$1 out
	out=$(q -d "$DB" -At <<-SQL
	SELECT array_agg('t' || g)::text AS schemas FROM generate_series(1, $n) g \gset
	\timing on
	SELECT 'applied ' || count(*) FILTER (WHERE state = 'applied')
	  FROM morgenmigrate.migrate_status('$dir', schemas => :'schemas');
	\timing off
	SQL
	)
	echo "$out" | grep -qx "applied $((n * FILES))" || { echo "status of $n: $out" >&2; exit 1; }
	echo "$out" | awk '/^Time: / { t = $2 } END { print t }'
}

# Records DRIFT changes in database DB: drift_enable()'s triggers, and
# tables created by hand.
record_drift() {
	q -d "$DB" -c "SELECT morgenmigrate.drift_enable()" >/dev/null
	q -d "$DB" -At -c "SELECT format('CREATE TABLE public.drift_%s (id int);', g) FROM generate_series(1, $DRIFT) g" | q -d "$DB"
}

# Runs the files in the n schemas of database DB with one psql session;
# prints its wall time (ms) and the backend's private memory at the end.
psql_loop() {
	local n=$1 t0 t1 out i f
	{
		for ((i = 1; i <= n; i++)); do
			echo "SET search_path = t$i;"
			for f in "$dir"/*.sql; do
				printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$f"
			done
		done
		echo "$mem_sql"
	} >"$BENCH_PGDIR/fleet_loop.sql"
	t0=$(now_us)
	out=$(q -d "$DB" -At -f "$BENCH_PGDIR/fleet_loop.sql")
	t1=$(now_us)
	echo "$out" | awk -v ms=$(((t1 - t0) / 1000)) '/^mem / { a = $3 } END { printf "%d %d\n", ms, a }'
}

status=() status_drift=() alone=() beside=() fleet=() fleet_hwm=() fleet_anon=() small_anon=() loop=() loop_anon=()
for ((r = 1; r <= REPS; r++)); do
	say "repetition $r of $REPS"
	for ((k = 1; k <= ALONE; k++)); do
		fleet_db 1
		read -r ms hwm anon < <(fleet_call 1)
		alone+=("$ms")
	done
	fleet_db "$SMALL"
	read -r ms hwm anon < <(fleet_call "$SMALL")
	small_anon+=("$anon")
	fleet_db "$SCHEMAS"
	read -r ms hwm anon < <(fleet_call "$SCHEMAS")
	fleet+=("$ms") fleet_hwm+=("$hwm") fleet_anon+=("$anon")
	for ((k = 1; k <= ALONE; k++)); do
		q -d "$DB" -c "CREATE SCHEMA t$((SCHEMAS + k))" -c "CHECKPOINT"
		read -r ms hwm anon < <(fleet_call $((SCHEMAS + k)) $((SCHEMAS + k)))
		beside+=("$ms")
	done
	for ((k = 1; k <= STATUS; k++)); do
		status+=("$(status_call "$SCHEMAS")")
	done
	record_drift
	for ((k = 1; k <= STATUS; k++)); do
		status_drift+=("$(status_call "$SCHEMAS")")
	done
	fleet_db "$SCHEMAS"
	read -r ms anon < <(psql_loop "$SCHEMAS")
	loop+=("$ms") loop_anon+=("$anon")
	echo "alone ${alone[-1]} ms, beside $SCHEMAS ${beside[-1]} ms; $SCHEMAS schemas: ${fleet[-1]} ms, peak +${fleet_hwm[-1]} kB, private ${fleet_anon[-1]} kB ($SMALL schemas: ${small_anon[-1]} kB); status ${status[-1]} ms, with drift ${status_drift[-1]} ms; psql: ${loop[-1]} ms, private ${loop_anon[-1]} kB"
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
m_alone=$(median "${alone[@]}")
m_beside=$(median "${beside[@]}")
m_fleet=$(median "${fleet[@]}")
m_hwm=$(median "${fleet_hwm[@]}")
m_anon=$(median "${fleet_anon[@]}")
m_small=$(median "${small_anon[@]}")
m_loop=$(median "${loop[@]}")
m_status=$(median "${status[@]}")
m_status_drift=$(median "${status_drift[@]}")
m_loop_anon=$(median "${loop_anon[@]}")
per() { awk -v t="$1" -v n="$2" 'BEGIN { printf "%.1f", t / n }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per_fleet=$(per "$m_fleet" "$SCHEMAS")
per_loop=$(per "$m_loop" "$SCHEMAS")
growth=$(awk -v s="$m_small" -v f="$m_anon" -v a="$SMALL" -v b="$SCHEMAS" 'BEGIN { printf "%.1f", (f - s) / (b - a) }')
{
	echo "# A fleet of tenant schemas"
	echo
	echo "$FILES files per tenant (gen.pl), medians of $REPS ($((REPS * ALONE)) for one tenant alone), $(date -u +%Y-%m-%d)"
	echo
	echo "| | time | per tenant: to one alone in a new database / beside $SCHEMAS | private memory at the end |"
	echo "|---|---:|---:|---:|"
	echo "| one tenant alone in a new database, CALL migrate_run | ${m_alone} ms | ${m_alone} ms (1.00x / $(ratio "$m_alone" "$m_beside")x) | |"
	echo "| one tenant alone beside $SCHEMAS, CALL migrate_run | ${m_beside} ms | ${m_beside} ms ($(ratio "$m_beside" "$m_alone")x / 1.00x) | |"
	echo "| $SMALL tenants, one CALL migrate_run | | | ${m_small} kB |"
	echo "| $SCHEMAS tenants, one CALL migrate_run | ${m_fleet} ms | ${per_fleet} ms ($(ratio "$per_fleet" "$m_alone")x / $(ratio "$per_fleet" "$m_beside")x) | ${m_anon} kB |"
	echo "| $SCHEMAS tenants, one psql session (SET search_path, a transaction per file) | ${m_loop} ms | ${per_loop} ms ($(ratio "$per_loop" "$m_alone")x / $(ratio "$per_loop" "$m_beside")x) | ${m_loop_anon} kB |"
	echo
	echo "| migrate_status(dir, schemas => $SCHEMAS tenants), medians of $((REPS * STATUS)) | time | per tenant |"
	echo "|---|---:|---:|"
	echo "| no drift recorded | ${m_status} ms | $(per "$m_status" "$SCHEMAS") ms |"
	echo "| $DRIFT drift changes recorded | ${m_status_drift} ms | $(per "$m_status_drift" "$SCHEMAS") ms |"
	echo
	echo "Each tenant beyond the first $SMALL added ${growth} kB to migrate_run's private memory;"
	echo "the peak (VmHWM, with the shared buffers touched) grew by ${m_hwm} kB over the call of $SCHEMAS."
} | tee "$results/fleet.md"
