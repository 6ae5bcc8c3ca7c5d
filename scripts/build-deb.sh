#!/usr/bin/env bash
# Builds the Debian packages postgresql-NN-morgenmigrate from the committed
# and uncommitted files of this tree, one per PostgreSQL version that
# debian/pgversions names and this system supports (PG_SUPPORTED_VERSIONS
# narrows that, as everywhere in Debian's PostgreSQL tools), and the client
# morgenmigrate-push (architecture all).  Needs
# dpkg-dev, debhelper and postgresql-server-dev-all (or -NN); the .deb files
# land in MM_DEB_OUT (default: the current directory).
#
#   scripts/build-deb.sh
#   PG_SUPPORTED_VERSIONS=15 MM_DEB_OUT=/tmp/debs scripts/build-deb.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath "${MM_DEB_OUT:-.}")
build=$(mktemp -d /var/tmp/morgenmigrate-build.XXXXXX)
trap 'rm -rf "$build"' EXIT

# a copy of the tree, so that the build never writes into the checkout
mkdir -p "$build/morgenmigrate"
tar -C "$here" --exclude .git --exclude '*.o' --exclude '*.so' --exclude results \
	--exclude tmp_check --exclude output_iso -cf - . | tar -C "$build/morgenmigrate" -xf -
cd "$build/morgenmigrate"
# debian/control lists one binary package per supported version, so it is
# made here from control.in for the versions of this system
pg_buildext updatecontrol
dpkg-buildpackage -us -uc -b
mkdir -p "$out"
cp ../*.deb "$out"/
ls "$out"/*.deb
