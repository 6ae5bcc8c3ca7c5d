#!/usr/bin/env bash
# Copies the fixture migration sets into DIR, a new directory of this run
# (test/installcheck.sh makes it), adds the fixtures git cannot hold, and
# lets every user read them: the server reads them as its own OS user.
#
#   test/stage-fixtures.sh DIR
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dst=${1:?usage: $0 DIR}

cp -R "$here/migrations/." "$dst/"
# a fixture that names a file of its own, as a test names it
grep -rlZ --include='*.sql' '@fixtures@' "$dst" | xargs -0 -r sed -i "s|@fixtures@|$dst|g"
# where a test copies a set to edit and delete its files
mkdir "$dst/scratch"

# a FIFO named like a migration must be skipped, never opened
mkdir -p "$dst/fifo"
printf 'CREATE TABLE fifo_neighbour (id int);\n' > "$dst/fifo/001_create_neighbour.sql"
mkfifo "$dst/fifo/002_pipe.sql"

# a migration whose file name is not UTF-8 (git cannot hold it portably)
mkdir -p "$dst/badname"
printf 'CREATE TABLE badname_first (id int);\n' > "$dst/badname/001_first.sql"
printf 'CREATE TABLE badname_ran (id int);\n' > "$dst/badname/002_caf"$'\xe9'"_bad.sql"

# an empty diesel migration directory (git cannot hold it): diesel skips it
mkdir -p "$dst/layout_diesel/empty_dir/2020-01-02-000000_not_written_yet"

# sql-migrate's scanners, with fixtures too large to keep in git: a word of
# 64 kB, which hides the semicolon after it from sql-migrate, one a byte
# shorter, which does not, and a line of 1 MB, which sql-migrate cannot read
sm=$dst/layout_sql_migrate
for c in long_word:65531 long_word_fits:65530 long_line:0; do
	d=$sm/${c%%:*}
	mkdir -p "$d"
	if [ "${c#*:}" -gt 0 ]; then
		text=$(head -c "${c#*:}" /dev/zero | tr '\0' x)
	else
		text=$(head -c 1048576 /dev/zero | tr '\0' ' ')
	fi
	printf -- '-- +migrate Up\nCREATE TABLE layout_log (id serial PRIMARY KEY, what text NOT NULL);\nINSERT INTO layout_log (what) VALUES ('"'"'%s'"'"');\n\n-- +migrate Down\nDROP TABLE layout_log;\n' \
		"$text" >"$d/1_create_log.sql"
done

chmod -R a+rX "$dst"
