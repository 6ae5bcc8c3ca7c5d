#!/usr/bin/env bash
# Checks what a release needs besides working code: one version string
# (morgenmigrate.control's default_version) that META.json, debian/changelog
# and CHANGELOG.md agree with; "make dist" making the archive PGXN takes;
# every PostgreSQL version test in src/compat.h.  Ends with
# "N passed, N failed".
#
#   scripts/check-release.sh
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/lib.sh"
need_root "$@"
cd "$here"
export PATH=/usr/lib/postgresql/$PG_MAJOR/bin:$PATH
passed=0
failed=0

# the build tools and server headers of PG_MAJOR, and what the checks use
# (a download that fails is a failed check, with apt's own error)
missing=""
for tool in python3 unzip git; do
	command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
check "the packages the checks use are installed" \
	eval 'install_packages >/dev/null && { [ -z "$missing" ] || apt_install $missing >/dev/null; }'


version=$(sed -n "s/^default_version = '\(.*\)'/\1/p" morgenmigrate.control)
echo "the version: $version"
check "the control file names a version" test -n "$version"
check "make reads the same version" \
	test "$(make -s --no-print-directory --eval 'v: ; @echo $(EXTVERSION)' v)" = "$version"
check "META.json is valid JSON, for version $version.0 (semver), license postgresql" \
	python3 -c '
import json, sys
m = json.load(open("META.json"))
v = sys.argv[1] + ".0"
assert m["version"] == v and m["provides"]["morgenmigrate"]["version"] == v, m["version"]
assert m["license"] == "postgresql" and m["meta-spec"]["version"] == "1.0.0"
f = m["provides"]["morgenmigrate"]["file"]
assert f.startswith("morgenmigrate--") and f.endswith("%s.sql" % sys.argv[1]), f
open(f).close()
' "$version"
check "debian/changelog is at version $version" \
	test "$(dpkg-parsechangelog -S Version 2>/dev/null | sed 's/-[^-]*$//')" = "$version"
check "CHANGELOG.md has a section for $version" grep -q "^## $version\b" CHANGELOG.md
# CREATE EXTENSION installs $version from its own script or, as contrib's
# modules do, from the base script and the update scripts after it
check "a script installs or updates to $version" \
	sh -c "ls morgenmigrate--$version.sql morgenmigrate--*--$version.sql 2>/dev/null | grep -q ."
check "no PG_VERSION_NUM test outside src/compat.h" \
	sh -c '! grep -rln PG_VERSION_NUM src --include="*.c" --include="*.h" | grep -v "^src/compat.h$"'

# make dist archives HEAD: done in a scratch clone of this commit
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	git clone -q --no-hardlinks "$here" "$tmp/clone"
	check "make dist makes morgenmigrate-$version.zip" \
		make -s -C "$tmp/clone" dist
	zip=$tmp/clone/morgenmigrate-$version.zip
	check "the archive has META.json, the control file and the Makefile under morgenmigrate-$version/" \
		sh -c "unzip -Z1 '$zip' | grep -qx 'morgenmigrate-$version/META.json' &&
			unzip -Z1 '$zip' | grep -qx 'morgenmigrate-$version/morgenmigrate.control' &&
			unzip -Z1 '$zip' | grep -qx 'morgenmigrate-$version/Makefile'"
	unzip -q -d "$tmp" "$zip"
	check "the archive builds with -Werror against $(pg_config --version)" \
		make -s -C "$tmp/morgenmigrate-$version" COPT=-Werror
	make -s -C "$tmp/morgenmigrate-$version" clean
	check "and with assertions enabled (-DUSE_ASSERT_CHECKING)" \
		make -s -C "$tmp/morgenmigrate-$version" COPT="-Werror -DUSE_ASSERT_CHECKING"
else
	check "a git checkout to archive" false
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
