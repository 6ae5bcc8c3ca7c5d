# Shared helpers of scripts/demo.sh and scripts/test.sh (sourced, not run).
# Everything here works on a fresh Debian 12 machine, as root.

# the PostgreSQL major version to build and test against: Debian 12's 15
# unless the caller says otherwise (scripts/test-versions.sh does, inside a
# root file system of a later Debian release)
PG_MAJOR=${PG_MAJOR:-15}
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin

say() { printf '\n==> %s\n' "$*"; }

# Re-runs the calling script as root when it is not.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		if ! command -v sudo >/dev/null 2>&1; then
			echo "$0: run this as root (it installs packages and starts a server)" >&2
			exit 1
		fi
		exec sudo -E "$0" "$@"
	fi
}

# Ends a run that counts its tests (SKIPPED, PASSED, FAILED): the number
# skipped, then the closing line "N passed, N failed", always the last
# (scripts/test-versions.sh and CI read it), and an exit status that is
# non-zero on any failure.
close_run() {
	echo "$1 skipped"
	echo "$2 passed, $3 failed"
	[ "$3" -eq 0 ] || exit 1
	exit 0
}

# Records one check of a script that counts its own (passed and failed,
# which the caller sets to 0): its name, then the command that must succeed.
check() {
	local name=$1; shift
	if "$@"; then
		echo "ok - $name"
		passed=$((passed + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
}

# Runs a download (WHAT says which: "apt-get install x", "npm install",
# "debootstrap sid") with its output shown.  On failure it keeps the
# tool's own error in download_error ("download failed: WHAT: E: ...")
# for the caller's report, says it, and returns non-zero.
download_error=""
download() {
	local what=$1; shift
	local out rc
	out=$(mktemp)
	{ "$@" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}; } || true
	if [ "$rc" -ne 0 ]; then
		download_error="download failed: $what: $(tool_error "$out")"
		echo "$download_error" >&2
	fi
	rm -f "$out"
	return "$rc"
}

# The error lines of a download tool's output in FILE (apt's and
# debootstrap's "E:", "Err:", npm's "npm ERR!"/"npm error"), on one line;
# its last line if it printed none of them.
tool_error() {
	local lines
	lines=$(grep -E '^(E: |Err:|npm ERR! |npm error )' "$1" | head -n 4 | paste -sd '|' | sed 's/|/ | /g')
	[ -n "$lines" ] || lines=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1)
	echo "${lines:-no output (exit status only)}"
}

# apt-get update and install of PACKAGES, as download steps; waits for
# another apt-get (a parallel run) rather than fail.
apt_install() {
	export DEBIAN_FRONTEND=noninteractive
	download "apt-get update" apt-get -o DPkg::Lock::Timeout=900 update -q &&
		download "apt-get install $*" apt-get -o DPkg::Lock::Timeout=900 install -y -q "$@"
}

# Installs PostgreSQL PG_MAJOR, its server headers, pg_cron, the build tools and
# the perl modules of the TAP tests and e2fsprogs's mke2fs and fuse2fs (a
# FUSE mount for the root suite) from Debian's packages (and PKGS too).
install_packages() {
	local pkgs="postgresql-$PG_MAJOR postgresql-server-dev-$PG_MAJOR
		postgresql-$PG_MAJOR-cron postgresql-client-$PG_MAJOR
		build-essential libipc-run-perl rsync e2fsprogs fuse2fs ${PKGS:-}"
	local missing=""
	for p in $pkgs; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
	done
	if [ -n "$missing" ]; then
		say "installing$missing"
		apt_install $missing
	fi
}

# Makes the locale NAME (such as de_DE.UTF-8) available, as a Debian user
# would: the locales package, NAME enabled in /etc/locale.gen, locale-gen.
need_locale() {
	local name=$1
	if ! locale -a 2>/dev/null | grep -qix "${name%%.*}.$(echo "${name#*.}" | tr -d - | tr A-Z a-z)"; then
		PKGS=locales install_packages || return 1
		say "generating the locale $name"
		sed -i "s/^# *\($name \)/\1/" /etc/locale.gen
		grep -q "^$name " /etc/locale.gen || echo "$name ${name#*.}" >>/etc/locale.gen
		locale-gen >/dev/null
	fi
}

# The Debian packages of the runners the adoption tests and the
# differential test (test/t/110_differential.pl) migrate with.
ADOPTION_PACKAGES="sqitch libdbd-pg-perl python3-alembic python3-psycopg2 sql-migrate"

# Installs the npm runners the adoption and differential tests migrate
# with (dbmate, node-pg-migrate, postgrator-cli, as
# test/adopt/package-lock.json pins them) into NPM_RUNNERS, once per lock
# file: a directory named after the lock file's SHA-256, so that trees
# pinning other versions (a branch, an older checkout) keep runners of
# their own and no run removes the runners another run is using (a Debian
# root of scripts/test-versions.sh gets this machine's copy and needs only
# node; test/perl/MorgenmigrateTest.pm finds the same directory).
# (npm install, not npm ci: npm ci refuses a lock file without the
# binaries dbmate ships for other platforms.)
NPM_RUNNERS=/var/cache/morgenmigrate/npm-$(sha256sum <"$(dirname "${BASH_SOURCE[0]}")/../test/adopt/package-lock.json" | cut -c1-16)
install_npm_runners() {
	local src=$1
	if [ ! -d "$NPM_RUNNERS/node_modules" ] ||
		! cmp -s "$src/test/adopt/package-lock.json" "$NPM_RUNNERS/package-lock.json"; then
		if ! command -v npm >/dev/null 2>&1; then
			say "installing nodejs and npm"
			apt_install nodejs npm || return 1
		fi
		say "installing the npm runners of the adoption tests into $NPM_RUNNERS"
		rm -rf "$NPM_RUNNERS"
		mkdir -p "$NPM_RUNNERS"
		cp "$src/test/adopt/package.json" "$src/test/adopt/package-lock.json" "$NPM_RUNNERS/"
		if ! download "npm install (test/adopt/package-lock.json)" \
			env -C "$NPM_RUNNERS" npm install --no-audit --no-fund --loglevel=error; then
			# half an installation must not pass for one next time
			rm -rf "$NPM_RUNNERS"
			return 1
		fi
	fi
	if ! command -v node >/dev/null 2>&1; then
		say "installing nodejs"
		apt_install nodejs || return 1
	fi
	chmod -R a+rX "$NPM_RUNNERS"
}

# Copies the source tree to a directory the postgres OS user owns, so that
# the server can read its fixtures and TAP tests can run as that user.
stage_tree() {
	local src=$1 dst=$2
	mkdir -p "$dst"
	rsync -a --delete --exclude .git --exclude results --exclude tmp_check \
		--exclude output_iso --exclude '*.o' --exclude '*.so' "$src"/ "$dst"/
	chown -R postgres:postgres "$(dirname "$dst")"
}

# Builds as postgres and installs as root (into the PostgreSQL that
# PG_CONFIG names, the system's by default).
build_and_install() {
	local dir=$1
	say "building and installing morgenmigrate"
	runuser -u postgres -- make -C "$dir" -s clean >/dev/null
	runuser -u postgres -- make -C "$dir" -s
	make -C "$dir" -s install
}

# Copies the system's PostgreSQL (binaries, libraries, shared files and
# server headers; its binaries find the rest relative to themselves) into
# ROOT and points PG_BIN and PG_CONFIG at the copy, so that what a test run
# installs there cannot meet another build installed on the machine.
private_postgres() {
	local root=$1
	say "copying PostgreSQL $PG_MAJOR into $root"
	rm -rf "$root"
	mkdir -p "$root/usr/lib/postgresql" "$root/usr/share/postgresql" "$root/usr/include/postgresql"
	cp -a "/usr/lib/postgresql/$PG_MAJOR" "$root/usr/lib/postgresql/"
	cp -a "/usr/share/postgresql/$PG_MAJOR" "$root/usr/share/postgresql/"
	cp -a "/usr/include/postgresql/$PG_MAJOR" "$root/usr/include/postgresql/"
	# no file of another build of morgenmigrate installed on the machine:
	# an extension script this tree no longer has (morgenmigrate--1.1.sql,
	# once a whole-version script) would be the one CREATE EXTENSION runs
	rm -rf "$root/usr/share/postgresql/$PG_MAJOR/extension/morgenmigrate"* \
		"$root/usr/lib/postgresql/$PG_MAJOR/lib/morgenmigrate"* \
		"$root/usr/lib/postgresql/$PG_MAJOR/lib/bitcode/morgenmigrate"* \
		"$root/usr/lib/postgresql/$PG_MAJOR/bin/morgenmigrate-push"
	PG_BIN=$root/usr/lib/postgresql/$PG_MAJOR/bin
	export PG_CONFIG=$PG_BIN/pg_config
}
