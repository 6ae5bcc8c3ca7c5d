#!/usr/bin/env bash
# Copies the fixture migration sets to a fixed place the server can read
# (the regression tests name it, so their expected output is the same on
# every machine) and adds the fixtures git cannot hold.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
dst=/tmp/morgenmigrate-regress

rm -rf "$dst"
mkdir -p "$dst"
cp -R "$here/migrations/." "$dst/"
mkdir -p "$dst/scratch"
chmod -R a+rX "$dst"
chmod a+rwx "$dst/scratch"

# a FIFO named like a migration must be skipped, never opened
mkdir -p "$dst/fifo"
printf 'CREATE TABLE fifo_neighbour (id int);\n' > "$dst/fifo/001_create_neighbour.sql"
mkfifo "$dst/fifo/002_pipe.sql"
chmod -R a+rX "$dst/fifo"

# a migration whose file name is not UTF-8 (git cannot hold it portably)
mkdir -p "$dst/badname"
printf 'CREATE TABLE badname_first (id int);\n' > "$dst/badname/001_first.sql"
printf 'CREATE TABLE badname_ran (id int);\n' > "$dst/badname/002_caf"$'\xe9'"_bad.sql"
chmod -R a+rX "$dst/badname"

# an empty diesel migration directory (git cannot hold it): diesel skips it
mkdir -p "$dst/layout_diesel/empty_dir/2020-01-02-000000_not_written_yet"
chmod -R a+rX "$dst/layout_diesel/empty_dir"
