#!/usr/bin/env bash
# The regression and isolation tests (and the TAP tests with TAP=1) against a
# private copy of PostgreSQL 15 whose backends run under valgrind's memcheck,
# with morgenmigrate built -O1 -g.  Reports every memcheck error with a frame
# in morgenmigrate and exits non-zero if there is one.  Slow (the TAP tests
# take most of an hour under valgrind), so not part of scripts/test.sh.
#
#   test/valgrind.sh            regress + isolation
#   TAP=1 test/valgrind.sh      and the TAP tests
#
# AddressSanitizer is no alternative on Debian's PostgreSQL: with
# LD_PRELOAD=libasan the server hangs at startup in bindtextdomain, and an
# extension alone cannot load the ASan runtime first.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
need_root "$@"

work=${VG_WORK:-/var/tmp/mm-valgrind}
root=$work/root
bin=$root/usr/lib/postgresql/$PG_MAJOR/bin
port=${VG_PORT:-5525}
logs=$work/vglogs

install_packages
if ! command -v valgrind >/dev/null; then
	apt-get install -y -q valgrind
fi

# A private PostgreSQL: its binaries find lib/ and share/ next to them.
if [ -f "$work/data/postmaster.pid" ]; then
	runuser -u postgres -- "$bin/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
fi
rm -rf "$work"
mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$logs"
cp -a "/usr/lib/postgresql/$PG_MAJOR" "$root/usr/lib/postgresql/"
cp -a "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/"
mv "$bin/postgres" "$bin/postgres.real"
cat >"$work/valgrind.supp" <<'SUPP'
{
   postgres writes padding bytes of WAL records and relcache init files
   Memcheck:Param
   write(buf)
   obj:*
   ...
}
{
   postgres writes padding bytes of WAL records and relcache init files
   Memcheck:Param
   pwrite64(buf)
   obj:*
   ...
}
SUPP
cat >"$bin/postgres" <<WRAP
#!/bin/sh
exec valgrind --quiet --trace-children=yes --leak-check=no --error-limit=no \\
	--read-var-info=no --suppressions=$work/valgrind.supp \\
	--log-file=$logs/%p.log "$bin/postgres.real" "\$@"
WRAP
chmod +x "$bin/postgres"

say "building morgenmigrate -O1 -g into $root"
stage_tree "$here" "$work/src"
runuser -u postgres -- make -C "$work/src" -s clean >/dev/null
runuser -u postgres -- make -C "$work/src" -s with_llvm=no COPT="-g -O1"
make -C "$work/src" -s install with_llvm=no DESTDIR="$root" >/dev/null
chown -R postgres:postgres "$work"

say "starting the server under valgrind on port $port"
runuser -u postgres -- "$bin/initdb" -D "$work/data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
max_prepared_transactions = 10
fsync = off
CONF
runuser -u postgres -- "$bin/pg_ctl" -D "$work/data" -l "$work/server.log" -t 300 -w start >/dev/null

set +e
say "regress and isolation tests"
runuser -u postgres -- env PATH="$bin:$PATH" PGHOST="$work" PGPORT="$port" PGUSER=postgres \
	make -C "$work/src" installcheck PG_CONFIG="$bin/pg_config" with_llvm=no \
	2>&1 | tee "$work/installcheck.log" | grep -E '^test |tests (passed|failed)'
runuser -u postgres -- "$bin/pg_ctl" -D "$work/data" -m fast -t 300 stop >/dev/null
if [ "${TAP:-0}" = 1 ]; then
	say "TAP tests"
	runuser -u postgres -- env PATH="$bin:$PATH" PG_TEST_TIMEOUT_DEFAULT=900 \
		make -C "$work/src" installcheck PG_CONFIG="$bin/pg_config" with_llvm=no \
		REGRESS= ISOLATION= TAP_TESTS=1 2>&1 | tee "$work/tap.log" | grep -E '^test/|^Result'
fi
set -e

# memcheck writes a log per process; an error record ends with a blank line
say "memcheck errors in morgenmigrate (logs in $logs)"
findings=$(perl -e '
	local $/ = "";
	for my $f (@ARGV) {
		open my $fh, "<", $f or next;
		for my $rec (<$fh>) {
			print "$f:\n$rec" if $rec =~ /morgenmigrate/ && $rec =~ /^==\d+== \S/m;
		}
	}' "$logs"/*.log)
if [ -n "$findings" ]; then
	echo "$findings"
	exit 1
fi
echo "none in $(ls "$logs" | wc -l) backend logs"
