#!/usr/bin/env bash
# make installcheck (the Makefile runs this, with MAKE, PG_BINDIR,
# PG_PKGLIBDIR, MM_REGRESS, MM_TAP and PROVE_TESTS set): checks first what
# the tests need, so that what is missing is said once, up front; stages
# the fixtures in a new directory that the server's OS user can read; runs
# PGXS's installcheck (make installcheck-staged) against the server that
# PGHOST, PGPORT and PGUSER name, as pg_regress does; removes the fixtures
# again, whatever happened.
#
# The pg_regress tests and the isolation specs need a server, a superuser
# role and morgenmigrate installed in the server's PostgreSQL.  Root with
# PGUSER=postgres, against a server that admits that role only to the OS
# user of the same name (peer authentication, Debian's default), runs the
# test programs (psql, isolationtester) as that OS user.  The TAP tests
# (TAP_TESTS=1) start clusters of their own: they need IPC::Run and pg_cron
# installed, and an OS user other than root (initdb refuses root).
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
bin=${PG_BINDIR:?run this through make installcheck}
# root's tools (runuser), whatever the caller's PATH
[ "$(id -u)" -ne 0 ] || export PATH=$PATH:/usr/sbin:/sbin
client=""    # the OS user the test programs run as, when not this one

# Says why the tests cannot run (the first argument; each further one a
# line of its own) and stops.
fail() {
	printf 'make installcheck: %s\n' "$1" >&2
	shift
	printf '  %s\n' "$@" >&2
	exit 1
}

# psql on database postgres of the server, as the test programs connect.
psql_q() {
	if [ -n "$client" ]; then
		(cd / && runuser -u "$client" -- "$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@")
	else
		"$bin/psql" -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"
	fi
}

# The tests of PROVE_TESTS that start a cluster with pg_cron.
cron_tests() {
	grep -lE "cron_node|shared_preload_libraries *= *'pg_cron'" $PROVE_TESTS 2>/dev/null | tr '\n' ' '
}

# the outputs of an earlier run by another OS user must not be in the way
for f in results output_iso regression.diffs regression.out tmp_check log; do
	blocked=$(find "$f" ! -type l ! -writable -print -quit 2>/dev/null)
	if [ -n "$blocked" ]; then
		fail "$PWD/$blocked is left from a run by $(stat -c %U "$blocked"), and this user cannot write it:" \
			"remove the outputs of that run (rm -rf results output_iso regression.* tmp_check log) as that user or root."
	fi
done

if [ -n "${MM_TAP:-}" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		fail "the TAP tests start clusters of their own, and initdb does not run as root:" \
			"run them as another OS user (such as postgres, from a copy of the tree it owns)."
	fi
	perl -MIPC::Run -e 1 2>/dev/null ||
		fail "the TAP tests need the perl module IPC::Run (Debian: apt-get install libipc-run-perl)."
	if [ ! -f "${PG_PKGLIBDIR:-}/pg_cron.so" ]; then
		printf 'make installcheck: pg_cron is not installed in %s (Debian: postgresql-NN-cron);\n  these TAP tests need it and will fail: %s\n' \
			"$PG_PKGLIBDIR" "$(cron_tests)" >&2
	fi
fi

fixtures=""
clientbin=""
trap 'rm -rf "$fixtures" "$clientbin"' EXIT
staged=()
if [ -n "${MM_REGRESS:-}" ]; then
	# the server, as pg_regress will reach it (PGHOST, PGPORT)
	if ! ready=$("$bin/pg_isready" -d postgres 2>&1); then
		fail "no PostgreSQL server answers at ${ready% - *} (pg_isready: ${ready##* - })." \
			"Start one, or name it with PGHOST and PGPORT, and a superuser role with PGUSER."
	fi
	where=${ready% - *}
	# a superuser role: the tests create extensions, roles and databases
	query="SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
	if ! super=$(psql_q -c "$query" 2>&1); then
		if [ "$(id -u)" -eq 0 ] && [ -n "${PGUSER:-}" ] && [ "$PGUSER" != root ] &&
			id -u "$PGUSER" >/dev/null 2>&1 && as_client=$(client=$PGUSER psql_q -c "$query" 2>/dev/null); then
			client=$PGUSER
			super=$as_client
		else
			hint="Name a superuser role that the server lets this OS user in as, with PGUSER."
			if [ "$(id -u)" -eq 0 ] && [ -z "${PGUSER:-}" ]; then
				hint="As root, name a superuser role: PGUSER=postgres make installcheck"
			fi
			fail "cannot connect to the server at $where: ${super#psql: error: }" "$hint"
		fi
	fi
	role=$(psql_q -c "SELECT current_user")
	[ "$super" = t ] ||
		fail "role \"$role\" is not a superuser: the tests create extensions and roles." \
			"Name a superuser role with PGUSER."
	available=$(psql_q -c "SELECT count(*) FROM pg_available_extensions WHERE name = 'morgenmigrate'")
	[ "$available" = 1 ] ||
		fail "morgenmigrate is not installed in the PostgreSQL of the server at $where" \
			"(PostgreSQL $(psql_q -c 'SHOW server_version')): make install it first (as root)."

	# a new directory the server can read, whoever runs this
	fixtures=$(mktemp -d /tmp/morgenmigrate-regress.XXXXXX) ||
		fail "cannot make a directory for the fixtures in /tmp."
	"$here/test/stage-fixtures.sh" "$fixtures" || fail "cannot stage the fixtures in $fixtures."
	chmod 755 "$fixtures"
	if unreadable=$(psql_q -c "SELECT pg_stat_file('$here/migrations/basic')" 2>&1 >/dev/null); then
		echo "make installcheck: server at $where, role $role; fixtures staged in $fixtures"
	else
		echo "make installcheck: server at $where, role $role; the server cannot read the checkout"
		echo "  (${unreadable#ERROR:  }): the fixtures are staged in $fixtures instead"
	fi
	if ! err=$(psql_q -c "SELECT pg_ls_dir('$fixtures/basic')" 2>&1 >/dev/null); then
		fail "the server at $where cannot read the fixtures staged in $fixtures (${err#ERROR:  })." \
			"The server must run on this machine and see its /tmp."
	fi
	export MM_FIXTURES=$fixtures

	if [ -n "$client" ]; then
		echo "make installcheck: the server lets the OS user $client in as role $client, but not root" \
			"(peer authentication, Debian's default): psql and isolationtester run as $client"
		# they run in the fixtures' directory, which holds a copy of the
		# tests' includes (\i sql/include/...), and edit fixtures there
		# (psql's \!) as that user
		if [ -d "$here/sql/include" ]; then
			mkdir -p "$fixtures/sql"
			cp -R "$here/sql/include" "$fixtures/sql/"
		fi
		chmod -R a+rX "$fixtures"
		chown -R "$client" "$fixtures"
		export MM_CLIENT_USER=$client
		# pg_regress runs psql from its --bindir: this one's runs it as the
		# client user
		clientbin=$(mktemp -d /tmp/morgenmigrate-bin.XXXXXX) || fail "cannot make a directory in /tmp."
		cat >"$clientbin/psql" <<-EOF
			#!/bin/sh
			# psql as the OS user $client (test/installcheck.sh), in the
			# fixtures' directory, where the tests' includes are
			cd "$fixtures"
			[ "\$(id -u)" -ne 0 ] || exec runuser -u $client -- "$bin/psql" "\$@"
			exec "$bin/psql" "\$@"
		EOF
		chmod -R a+rX "$clientbin"
		chmod 755 "$clientbin/psql"
		staged=("EXTRA_REGRESS_OPTS=${EXTRA_REGRESS_OPTS:-} --bindir=$clientbin")
	fi
fi

"$MAKE" --no-print-directory installcheck-staged "${staged[@]}"
rc=$?

# root running the tests in another user's checkout hands the outputs back
if [ "$(id -u)" -eq 0 ] && [ "$(stat -c %u .)" -ne 0 ]; then
	for f in results output_iso regression.diffs regression.out; do
		[ -e "$f" ] && chown -R --reference=. "$f"
	done
fi
exit $rc
