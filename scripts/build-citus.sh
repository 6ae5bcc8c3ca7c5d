#!/usr/bin/env bash
# Builds Citus from its source tree SRC_DIR and installs it into the
# PostgreSQL that PG_CONFIG names (pg_config on the PATH by default), so that
# the TAP tests that need a Citus cluster (test/t/100_citus_cluster.pl) run
# instead of being skipped.  Runs as root on Debian: installs the build
# dependencies with apt-get first.  Citus is not part of this repository:
# get its source yourself, e.g.
#
#   git clone --branch v13.0.5 --depth 1 https://github.com/citusdata/citus /var/tmp/citus-13.0.5
#   scripts/build-citus.sh /var/tmp/citus-13.0.5
#   PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config scripts/build-citus.sh /var/tmp/citus-13.0.5
#
# Citus 13.0.5 is the release that builds against Debian 12's PostgreSQL
# 15.20 (13.1 and later fail there on a duplicate have_createdb_privilege).
# The build happens inside SRC_DIR; libcurl (Citus's anonymous statistics)
# is left out.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/configure" ]; then
	echo "usage: $0 CITUS_SOURCE_DIR   (a Citus source tree, with its configure)" >&2
	exit 2
fi
src=$(cd "$1" && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "$0: run this as root (it installs packages and writes into PostgreSQL's directories)" >&2
	exit 1
fi

# the server headers of this PostgreSQL major version: of PG_CONFIG when it
# is there, else Debian 12's 15
pg_config=${PG_CONFIG:-pg_config}
if command -v "$pg_config" >/dev/null 2>&1; then
	major=$("$pg_config" --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
else
	major=15
fi

# What Citus's configure and link need: the compiler, the server headers,
# libpq, and the libraries that `pg_config --libs` of Debian's PostgreSQL
# names (configure links its test programs with all of them), lz4 and zstd
# (columnar compression) among them.
pkgs="build-essential postgresql-server-dev-$major libpq-dev
	liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev
	libxslt1-dev libxml2-dev libpam0g-dev libreadline-dev zlib1g-dev libicu-dev"
export DEBIAN_FRONTEND=noninteractive
echo "==> installing the build dependencies"
# wait for another apt-get (a parallel run) rather than fail
apt-get -o DPkg::Lock::Timeout=900 update -q
apt-get -o DPkg::Lock::Timeout=900 install -y -q --no-install-recommends $pkgs

# pg_config may have come with the packages just installed
pg_config=${PG_CONFIG:-pg_config}
command -v "$pg_config" >/dev/null || pg_config=/usr/lib/postgresql/$major/bin/pg_config
pg_config=$(command -v "$pg_config") || { echo "$0: no pg_config (set PG_CONFIG)" >&2; exit 1; }
echo "==> building Citus in $src for $("$pg_config" --version) ($pg_config)"
cd "$src"
./configure --without-libcurl PG_CONFIG="$pg_config"
make -j2
echo "==> installing Citus into $("$pg_config" --pkglibdir)"
make install
ls -l "$("$pg_config" --pkglibdir)/citus.so"
