#!/usr/bin/env bash
# Where the time of a long migration set goes, inside the server (as root):
#
#   test/bench/profile.sh            N=1000
#   N=500 test/bench/profile.sh
#
# On the benchmark's own cluster (see run.sh; do not run both at once),
# with the set gen.pl makes for N, it measures and writes to
# test/bench/results/profile-N.md (and prints):
#
#  1. the cost of each file along the set, per tenth of it: migrate_apply
#     in one transaction (each file's own duration as migrate_apply returns
#     it) and in ten transactions (steps => N/10), and the limit, psql -1 -f,
#     in one transaction and in ten (psql's \timing of each statement,
#     grouped by file); what grows in one transaction and not in ten is
#     what one transaction accumulates;
#  2. what one transaction holds at its end: the locks (pg_locks) and the
#     backend's cache memory (pg_backend_memory_contexts);
#  3. perf profiles of the backend (cpu-clock samples with call chains:
#     the Debian build keeps frame pointers) for migrate_apply and for the
#     limit over the same set, flat by function, the raw data kept in
#     results/perf-*.data for perf report.
set -euo pipefail
shopt -s inherit_errexit
. "$(cd "$(dirname "$0")" && pwd)/common.sh"
need_root "$@"

N=${N:-1000}
FREQ=${FREQ:-2999}
results=$bench/results
mkdir -p "$results"
tmp=$(mktemp -d /var/tmp/mm-bench-profile.XXXXXX)
chmod 755 "$tmp"
cleanup() {
	stop_cluster final
	rm -rf "$tmp"
}
trap cleanup EXIT

command -v perf >/dev/null || { say "installing perf"; apt-get install -y -q linux-perf >/dev/null; }
install_extension
start_cluster
say "generating the set of $N files"
generate_sets "$N"
set=$sets/n$N
chunk=$((N / 10))

# Each file's statement count, from a rehearsal: maps psql's statements
# back to files.
fresh_db
q -d "$DB" -Atc "SELECT statements FROM morgenmigrate.migrate_apply('$set', dry_run => true)" >"$tmp/stmts"

# psql -1 -f with \timing: one line per statement, in milliseconds.
timed_statements() {
	{ echo '\timing on'; cat "$@"; } | q -1 -d "$DB" -f - | awk '/^Time: / { print $2 }'
}

say "1. the cost of each file along the set"
fresh_db
q -d "$DB" -Atc "SELECT extract(epoch FROM duration) * 1000 FROM morgenmigrate.migrate_apply('$set')" >"$tmp/apply1"
fresh_db
for i in $(seq 1 10); do
	q -d "$DB" -Atc "SELECT extract(epoch FROM duration) * 1000 FROM morgenmigrate.migrate_apply('$set', steps => $chunk)"
done >"$tmp/apply10"
fresh_db
timed_statements "$sets/all$N.sql" >"$tmp/limit1"
fresh_db
files=("$set"/*.sql)
for i in $(seq 0 9); do
	timed_statements "${files[@]:$((i * chunk)):$chunk}"
done >"$tmp/limit10"

# Sums statement times into file times (statement counts in $tmp/stmts).
per_file() {
	awk 'NR == FNR { n[++f] = $1; next }
		{ t += $1; if (++k == n[g + 1]) { print t; t = 0; k = 0; g++ } }
		END { if (g != f) printf "statement count mismatch: %d files of %d\n", g, f > "/dev/stderr" }' "$tmp/stmts" "$1"
}
per_file "$tmp/limit1" >"$tmp/limit1.files"
per_file "$tmp/limit10" >"$tmp/limit10.files"

# Mean ms per file in each tenth of the set, one column per input.
tenths() {
	paste "$@" | awk -v n="$N" -v cols=$# '
		{ d = int((NR - 1) * 10 / n); for (c = 1; c <= cols; c++) s[d, c] += $c; cnt[d]++ }
		END {
			for (d = 0; d < 10; d++) {
				printf "| %d-%d |", d * n / 10 + 1, (d + 1) * n / 10
				for (c = 1; c <= cols; c++) printf " %.2f |", s[d, c] / cnt[d]
				printf "\n"
			}
			printf "| all, sum |"
			for (c = 1; c <= cols; c++) { t = 0; for (d = 0; d < 10; d++) t += s[d, c]; printf " %.0f ms |", t }
			printf "\n"
		}'
}

say "2. what one transaction holds at its end"
fresh_db
q -d "$DB" -At >"$tmp/held.apply" <<-SQL
	BEGIN;
	SELECT count(*) FROM morgenmigrate.migrate_apply('$set') \g /dev/null
	SELECT 'migrate_apply', (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()),
	  (SELECT (sum(total_bytes) / 1024)::bigint FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext'),
	  (SELECT count(*) FROM pg_backend_memory_contexts WHERE parent = 'CacheMemoryContext' AND name = 'index info');
	COMMIT;
SQL
fresh_db
{
	echo 'BEGIN;'
	echo "\\i $sets/all$N.sql"
	echo "SELECT 'psql -1 -f', (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid()),"
	echo "  (SELECT (sum(total_bytes) / 1024)::bigint FROM pg_backend_memory_contexts WHERE name = 'CacheMemoryContext' OR parent = 'CacheMemoryContext'),"
	echo "  (SELECT count(*) FROM pg_backend_memory_contexts WHERE parent = 'CacheMemoryContext' AND name = 'index info');"
	echo 'COMMIT;'
} | q -d "$DB" -At -f - >"$tmp/held.limit"

say "3. perf profiles"
# Runs a psql script with perf recording its backend; perf stops when the
# backend exits.
profile_of() {
	local name=$1 data=$results/perf-$1-$N.data
	rm -f "$data"
	{
		echo 'SELECT pg_backend_pid() AS pid \gset'
		echo '\setenv MMPID :pid'
		echo "\\! perf record -q -e cpu-clock -F $FREQ -g -p \"\$MMPID\" -o $data >/dev/null 2>&1 &"
		echo 'SELECT pg_sleep(0.5);'
		cat
	} | q -d "$DB" -f - >/dev/null
	for _ in $(seq 1 100); do
		pgrep -f "perf record .* -o $data" >/dev/null || break
		sleep 0.2
	done
	perf report -i "$data" --no-children --sort symbol --stdio -g none --percent-limit 0.5 2>/dev/null |
		awk '/^ +[0-9.]+%/ && n++ < 40' >"$tmp/flat.$name"
	perf report -i "$data" --no-children --sort symbol --stdio -g none 2>/dev/null |
		awk '/^# Samples:/ { print $3 }' >"$tmp/samples.$name"
}
fresh_db
echo "SELECT count(*) FROM morgenmigrate.migrate_apply('$set');" | profile_of apply
fresh_db
printf 'BEGIN;\n\\i %s\nCOMMIT;\n' "$sets/all$N.sql" | profile_of limit

{
	echo "# Where the time goes: $N migrations in one transaction"
	echo
	echo '```'
	echo "machine: $(nproc) cores, $(q -d postgres -Atc 'SELECT version()' | cut -d, -f1)"
	echo "morgenmigrate: $(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "reproduce: sudo N=$N test/bench/profile.sh"
	echo '```'
	echo
	echo "## 1. Mean ms per file along the set"
	echo
	echo "migrate_apply: each file's duration as migrate_apply returns it; psql: the sum of \\timing of the file's statements."
	echo
	echo "| files | migrate_apply, 1 transaction | migrate_apply, 10 transactions | psql -1 -f, 1 transaction | psql -1 -f, 10 transactions |"
	echo "|---|---:|---:|---:|---:|"
	tenths "$tmp/apply1" "$tmp/apply10" "$tmp/limit1.files" "$tmp/limit10.files"
	echo
	echo "## 2. Held at the end of the one transaction"
	echo
	echo "| runner | locks in pg_locks | CacheMemoryContext and children, kB | relcache index info contexts |"
	echo "|---|---:|---:|---:|"
	cat "$tmp/held.apply" "$tmp/held.limit" | grep '|' | awk -F'|' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
	echo
	echo "## 3. perf: self time by function (cpu-clock, $FREQ Hz)"
	for name in apply limit; do
		echo
		echo "### $name: $(cat "$tmp/samples.$name") samples, results/perf-$name-$N.data"
		echo
		echo '```'
		cat "$tmp/flat.$name"
		echo '```'
	done
} >"$results/profile-$N.md"
cat "$results/profile-$N.md"
