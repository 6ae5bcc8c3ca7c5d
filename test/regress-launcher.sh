#!/usr/bin/env bash
# pg_regress's and pg_isolation_regress's --launcher (see the Makefile):
# runs the test program it is given (psql or isolationtester, which read
# the test from standard input) with "@fixtures@" in the test replaced by
# the directory where test/installcheck.sh staged this run's fixtures
# (MM_FIXTURES), and that directory replaced by "@fixtures@" again in what
# the program prints, so that the expected output holds whatever the
# directory is.  psql's and libpq's own messages are kept in English and
# in UTF-8 whatever the caller's locale.  As root with MM_CLIENT_USER set
# (see test/installcheck.sh), the test program runs as that OS user, in the
# fixtures' directory (which holds the tests' includes, sql/include).
set -eo pipefail

if [ -z "${MM_FIXTURES:-}" ]; then
	echo "$0: MM_FIXTURES is not set: run the tests with make installcheck" >&2
	exit 2
fi
export LC_MESSAGES=C PGCLIENTENCODING=UTF8
unset LC_ALL LANGUAGE

if [ -n "${MM_CLIENT_USER:-}" ] && [ "$(id -u)" -eq 0 ]; then
	cd "$MM_FIXTURES"
	set -- runuser -u "$MM_CLIENT_USER" -- "$@"
fi

# the directory as a sed pattern (test/installcheck.sh makes it with
# mktemp: letters, digits, "/", "-", "_" and ".")
pattern=${MM_FIXTURES//./\\.}
# sed with the C locale, so that a byte that is not UTF-8 (a fixture's
# file name) passes through unchanged
LC_ALL=C sed "s|@fixtures@|$MM_FIXTURES|g" |
	"$@" 2>&1 |
	LC_ALL=C sed "s|$pattern|@fixtures@|g"
