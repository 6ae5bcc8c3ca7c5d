#!/usr/bin/env bash
# The demo of morgenmigrate, on a fresh Debian 12 machine: installs
# PostgreSQL 15 and the build tools, builds and installs the extension,
# starts Debian's PostgreSQL 15 cluster if none is running, and applies the
# demo migration set (migrations/demo) to a new database morgenmigrate_demo.
# Ends by showing migrate_status of the demo set.
#
#   scripts/demo.sh              as root, or it re-runs itself with sudo
#   DEMO_WORK=/var/tmp/x scripts/demo.sh   another staging place
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
need_root "$@"
# psql runs as postgres: from a directory it can read
cd /

work=${DEMO_WORK:-/var/tmp/morgenmigrate-demo}
db=morgenmigrate_demo
migrations=$work/migrations

install_packages
say "staging the source tree in $work/src"
stage_tree "$here" "$work/src"
build_and_install "$work/src"

# A running PostgreSQL 15 cluster of Debian's (pg_lsclusters): the first
# one online, else "main", created if it does not exist, then started.
cluster_port() {
	pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1 == v && $4 ~ /^online/ { print $3; exit }'
}
port=$(cluster_port)
if [ -z "$port" ]; then
	if ! pg_lsclusters -h | awk -v v="$PG_MAJOR" '$1 == v && $2 == "main" { found = 1 } END { exit !found }'; then
		say "creating the PostgreSQL $PG_MAJOR cluster \"main\""
		pg_createcluster --locale=C.UTF-8 "$PG_MAJOR" main
	fi
	say "starting the PostgreSQL $PG_MAJOR cluster \"main\""
	pg_ctlcluster "$PG_MAJOR" main start
	port=$(cluster_port)
fi
if [ -z "$port" ]; then
	echo "no PostgreSQL $PG_MAJOR cluster is running; see pg_lsclusters" >&2
	exit 1
fi
echo "using the PostgreSQL $PG_MAJOR cluster on port $port"

# psql as the postgres superuser on that cluster; stops at the first error.
sql() {
	local dbname=$1; shift
	runuser -u postgres -- psql -X -v ON_ERROR_STOP=1 -p "$port" -d "$dbname" "$@"
}

say "copying migrations/demo to $migrations, where the server can read it"
rm -rf "$migrations"
cp -R "$here/migrations/demo" "$migrations"
chown -R postgres:postgres "$migrations"
chmod -R a+rX "$migrations"
ls "$migrations"

say "creating the database $db (dropped first if it exists)"
PGOPTIONS='-c client_min_messages=warning' \
	sql postgres -q -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"

say "CREATE EXTENSION morgenmigrate"
sql "$db" -c "CREATE EXTENSION morgenmigrate"

say "applying the demo set: migrate_apply('$migrations')"
sql "$db" -c "SELECT filename, status, statements, duration
              FROM morgenmigrate.migrate_apply('$migrations')"

say "the state of every migration: migrate_status('$migrations')"
sql "$db" -c "SELECT filename, state, applied_at, duration, left(checksum, 12) AS checksum
              FROM morgenmigrate.migrate_status('$migrations')"

cat <<EOF

Done.  Try it yourself, as root:  cd / && runuser -u postgres -- psql -p $port -d $db
                  (or with sudo:  cd / && sudo -u postgres psql -p $port -d $db)
  undo the last file:          SELECT * FROM morgenmigrate.migrate_rollback('$migrations');
  rehearse it, with its locks: SELECT * FROM morgenmigrate.migrate_apply('$migrations', dry_run => true);
  apply it again:              SELECT * FROM morgenmigrate.migrate_apply('$migrations');
The operator's guide is docs/operations.md.
EOF
