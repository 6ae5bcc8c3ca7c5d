#!/usr/bin/env bash
# Builds the Debian package postgresql-PG_MAJOR-morgenmigrate from this tree
# (scripts/build-deb.sh), installs it with apt-get into this system's
# PostgreSQL PG_MAJOR, checks that it holds what the README sends package
# users to (the README, the operations guide, the converter scripts),
# creates the extension from it in a new cluster and applies the demo set
# and a Sqitch project converted by the packaged script, pushes the demo
# set with the packaged morgenmigrate-push from a directory only root
# reads, then removes the packages again.  Meant for a clean
# system of its own, such as the roots scripts/test-versions.sh makes; it
# refuses a system where the package is already installed.  Ends with
# "N passed, N failed".
#
#   PG_MAJOR=17 scripts/test-deb.sh
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
need_root "$@"

pkg=postgresql-$PG_MAJOR-morgenmigrate
work=${MM_DEB_WORK:-/var/tmp/morgenmigrate-deb}
port=${MM_PORT:-5498}
passed=0
failed=0


# Prints the closing line and exits with its verdict.
finish() {
	stop_server
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
	exit
}

# psql as postgres on the test cluster; prints bare values.
sql() {
	runuser -u postgres -- psql -X -q -At -v ON_ERROR_STOP=1 -h "$work" -p "$port" "$@"
}

# A new database NAME with the extension.
new_db() {
	sql -d postgres -c "CREATE DATABASE $1" && sql -d "$1" -c "CREATE EXTENSION morgenmigrate"
}

stop_server() {
	if [ -f "$work/data/postmaster.pid" ]; then
		runuser -u postgres -- "/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1
	fi
}

if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
	echo "$pkg is installed already: this test needs a system without it" >&2
	failed=1
	finish
fi

export LANG=C.UTF-8
rm -rf "$work"
mkdir -p "$work"
cd /

say "building $pkg"
check "dpkg-buildpackage builds $pkg" \
	env MM_DEB_OUT="$work" PG_SUPPORTED_VERSIONS="$PG_MAJOR" "$here/scripts/build-deb.sh"
deb=$(ls "$work"/"$pkg"_*.deb 2>/dev/null | head -n 1)
push_deb=$(ls "$work"/morgenmigrate-push_*.deb 2>/dev/null | head -n 1)
check "dpkg-buildpackage builds morgenmigrate-push too" test -n "$push_deb"
[ -n "$deb" ] || finish

say "installing $deb ${push_deb:-}"
check "apt-get installs $pkg and morgenmigrate-push" apt-get install -y -q "$deb" ${push_deb:+"$push_deb"}
check "morgenmigrate-push is on the PATH, as in this tree" \
	sh -c "test \"\$(command -v morgenmigrate-push)\" = /usr/bin/morgenmigrate-push &&
		cmp -s /usr/bin/morgenmigrate-push '$here/bin/morgenmigrate-push'"
check "the package holds the library, the control file and the scripts" \
	test -f "/usr/lib/postgresql/$PG_MAJOR/lib/morgenmigrate.so" \
	-a -f "/usr/share/postgresql/$PG_MAJOR/extension/morgenmigrate.control" \
	-a -f "/usr/share/postgresql/$PG_MAJOR/extension/morgenmigrate--1.0.sql" \
	-a -f "/usr/share/postgresql/$PG_MAJOR/extension/morgenmigrate--1.0--1.1.sql"
doc=/usr/share/doc/$pkg
check "the package holds the README and the operations guide in $doc" \
	test -f "$doc/README.md.gz" -a -f "$doc/docs/operations.md.gz"
check "the README there is this tree's" sh -c "zcat '$doc/README.md.gz' | cmp -s - '$here/README.md'"
for script in sqitch-to-migrations alembic-to-migrations; do
	check "the package holds $script, executable, in $doc/examples, as in this tree" \
		sh -c "test -x '$doc/examples/$script' && cmp -s '$doc/examples/$script' '$here/scripts/$script'"
done

say "a cluster of the installed PostgreSQL $PG_MAJOR"
mkdir -p "$work/data" "$work/migrations"
chown postgres:postgres "$work" "$work/data"
runuser -u postgres -- "/usr/lib/postgresql/$PG_MAJOR/bin/initdb" -D "$work/data" -A trust \
	-E UTF8 --locale=C.UTF-8 >/dev/null
check "the server starts" runuser -u postgres -- "/usr/lib/postgresql/$PG_MAJOR/bin/pg_ctl" \
	-D "$work/data" -l "$work/server.log" -w \
	-o "-c port=$port -c listen_addresses='' -c unix_socket_directories='$work'" start
cp -R "$here/migrations/demo/." "$work/migrations/"
chmod -R a+rX "$work/migrations"
nfiles=$(ls "$work/migrations" | grep -c '\.sql$' | tr -d ' ')
ndown=$(ls "$work/migrations" | grep -c '\.down\.sql$' | tr -d ' ')
nup=$((nfiles - ndown))

check "CREATE EXTENSION morgenmigrate, from the package" \
	sql -d postgres -c "CREATE EXTENSION morgenmigrate"
check "the installed version is the package's" \
	test "$(sql -d postgres -c "SELECT extversion FROM pg_extension WHERE extname = 'morgenmigrate'")" \
	= "$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$here/morgenmigrate.control")"
check "migrate_apply applies every file of the demo set" \
	test "$(sql -d postgres -c "SELECT count(*) FROM morgenmigrate.migrate_apply('$work/migrations') WHERE status = 'applied'")" = "$nup"
check "migrate_status shows every file applied" \
	test "$(sql -d postgres -c "SELECT count(*) FILTER (WHERE state = 'applied') || '/' || count(*) FROM morgenmigrate.migrate_status('$work/migrations')")" = "$nup/$nup"
check "the packaged sqitch-to-migrations converts a Sqitch project" \
	sh -c "'$doc/examples/sqitch-to-migrations' '$here/migrations/adopt/sqitch' '$work/sqitch' >/dev/null &&
		chmod -R a+rX '$work/sqitch'"
check "a new database with the extension" new_db from_sqitch
check "and migrate_apply applies every change of it" \
	test "$(sql -d from_sqitch -c "SELECT count(*) FROM morgenmigrate.migrate_apply('$work/sqitch') WHERE status = 'applied'")" \
	= "$(grep -c '^[a-z_]* .*<.*>' "$here/migrations/adopt/sqitch/sqitch.plan")"
# root pushes the demo set from a directory the server cannot read
check "a new database for a push" new_db pushed
mkdir -m 700 "$work/client"
cp -R "$here/migrations/demo/." "$work/client/"
check "morgenmigrate-push applies every file of the demo set from a directory only root reads" \
	test "$(morgenmigrate-push -h "$work" -p "$port" -U postgres -d pushed "$work/client" | grep -c '| applied')" = "$nup"
check "and the history agrees with the one written from the server's directory" \
	test "$(sql -d pushed -c "SELECT string_agg(filename || checksum, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations")" \
	= "$(sql -d postgres -c "SELECT string_agg(filename || checksum, ',' ORDER BY filename) FROM morgenmigrate.schema_migrations")"
stop_server

say "removing $pkg and morgenmigrate-push"
check "apt-get removes $pkg and its files" \
	sh -c "apt-get purge -y -q '$pkg' >/dev/null && test ! -e '/usr/lib/postgresql/$PG_MAJOR/lib/morgenmigrate.so'"
check "apt-get removes morgenmigrate-push" \
	sh -c "apt-get purge -y -q morgenmigrate-push >/dev/null && test ! -e /usr/bin/morgenmigrate-push"
finish
