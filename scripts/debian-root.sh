# Root file systems of other Debian releases, for testing morgenmigrate
# against the PostgreSQL each one ships (sourced by scripts/test-versions.sh,
# not run).  A root is made once with debootstrap from Debian's archive,
# kept under MM_ROOTS (/var/cache/morgenmigrate) between runs, and entered
# with chroot; the host's /proc, /sys, /dev, /dev/pts and /dev/shm are
# mounted into it only while a command runs there.

MM_ROOTS=${MM_ROOTS:-/var/cache/morgenmigrate}
MM_MIRROR=${MM_MIRROR:-http://deb.debian.org/debian}
MM_SECURITY_MIRROR=${MM_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# The Debian release whose own packages carry PostgreSQL VERSION.
debian_release_of() {
	case $1 in
		15) echo bookworm ;;
		17) echo trixie ;;
		18) echo sid ;;
		16) echo "no Debian release ships PostgreSQL 16 (see README.md, Supported versions)" >&2; return 1 ;;
		*) echo "PostgreSQL $1 is not supported (15 to 18 are)" >&2; return 1 ;;
	esac
}

# The packages a root needs to build morgenmigrate, run every test suite
# and build and try the Debian package (python3 runs the converter scripts
# it ships; e2fsprogs's mke2fs and fuse2fs make the FUSE mount of the root
# suite, and e2fsprogs is not part of a minimal trixie or sid), for
# PostgreSQL VERSION.
root_packages() {
	echo "postgresql-$1 postgresql-server-dev-$1 postgresql-$1-cron
		postgresql-client-$1 postgresql-server-dev-all build-essential
		debhelper dpkg-dev libipc-run-perl rsync python3 e2fsprogs fuse2fs"
}

# The apt sources of a root of RELEASE, as a Debian user's system has
# them: the release, and for a stable release its security and updates
# archives (which carry the PostgreSQL point releases).
root_sources() {
	echo "deb $MM_MIRROR $1 main"
	if [ "$1" != sid ]; then
		echo "deb $MM_SECURITY_MIRROR $1-security main"
		echo "deb $MM_MIRROR $1-updates main"
	fi
}

# Installs debootstrap on this machine if it has none.
need_debootstrap() {
	if ! command -v debootstrap >/dev/null 2>&1; then
		apt_install debootstrap
	fi
}

# Unmounts everything mounted under ROOT, deepest first; a mount still busy
# is detached lazily, so that nothing stays mounted whatever happened.
root_unmount() {
	local root=$1 m
	for m in $(awk -v r="$root/" 'index($2, r) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
}

# Mounts into ROOT what programs there expect of a running system.
root_mount() {
	local root=$1 d
	root_unmount "$root"
	mount -t proc proc "$root/proc"
	for d in sys dev dev/pts dev/shm; do
		mkdir -p "$root/$d"
		mount --bind "/$d" "$root/$d"
	done
}

# Ends the processes still running inside ROOT (a server left behind by
# an interrupted run there; only runs holding ROOT's lock start any).
root_kill_leftovers() {
	local root=$1 p
	for p in /proc/[0-9]*; do
		if [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ]; then
			kill -KILL "${p#/proc/}" 2>/dev/null || true
		fi
	done
}

# Runs a command inside ROOT as root, with a clean environment plus the
# NAME=VALUE assignments given before "--", from / (which every user can
# read).
in_root() {
	local root=$1; shift
	local env=()
	while [ "$1" != -- ]; do env+=("$1"); shift; done
	shift
	chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive "${env[@]}" \
		/bin/sh -c 'cd / && exec "$@"' sh "$@"
}

# Makes ROOT with debootstrap: a minimal RELEASE, where installing a
# PostgreSQL package neither starts a server nor creates a cluster, and
# where sid's Release file may be older than the clock.
root_create() {
	local release=$1 root=$2 tmp=$2.tmp
	root_unmount "$tmp"
	rm -rf "$tmp"
	say "making a Debian $release root file system in $root (debootstrap, a few minutes)"
	download "debootstrap $release from $MM_MIRROR" \
		debootstrap --variant=minbase "$release" "$tmp" "$MM_MIRROR" || return 1
	printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
	chmod 755 "$tmp/usr/sbin/policy-rc.d"
	mkdir -p "$tmp/etc/postgresql-common/createcluster.d"
	echo "create_main_cluster = false" >"$tmp/etc/postgresql-common/createcluster.d/morgenmigrate.conf"
	echo 'Acquire::Check-Valid-Until "false";' >"$tmp/etc/apt/apt.conf.d/99morgenmigrate"
	mv "$tmp" "$root"
}

# Makes sure the root of PostgreSQL VERSION exists, with its apt sources,
# up to date, and with its packages (once; a stamp lists the sources and
# the packages), and sets prepared_root to its path; a download that fails
# sets download_error (see scripts/lib.sh).
root_prepare() {
	local version=$1 release root pkgs sources stamp
	release=$(debian_release_of "$version") || return 1
	root=$MM_ROOTS/$release
	sources=$(root_sources "$release")
	pkgs=$(echo $(root_packages "$version"))
	stamp=$root/.morgenmigrate-packages
	mkdir -p "$MM_ROOTS"
	if [ ! -x "$root/bin/sh" ]; then
		root_unmount "$root"
		rm -rf "$root"
		need_debootstrap || return 1
		root_create "$release" "$root" || return 1
	fi
	if [ "$(cat "$stamp" 2>/dev/null)" != "$sources"$'\n'"$pkgs" ]; then
		say "updating the $release root and installing PostgreSQL $version and the build tools in $root"
		cp /etc/resolv.conf "$root/etc/resolv.conf"
		echo "$sources" >"$root/etc/apt/sources.list"
		root_mount "$root"
		if ! { download "apt-get update in the $release root" in_root "$root" -- apt-get update -q &&
			download "apt-get upgrade in the $release root" in_root "$root" -- apt-get upgrade -y -q &&
			download "apt-get install in the $release root" \
				in_root "$root" -- apt-get install -y -q --no-install-recommends $pkgs; }; then
			root_unmount "$root"
			return 1
		fi
		root_unmount "$root"
		echo "$sources"$'\n'"$pkgs" >"$stamp"
	fi
	prepared_root=$root
}
