#!/usr/bin/env bash
# Build (or fetch from the cache) the ScaiBunker guest kernel.
#
#   packages/worker/guest-kernel/build.sh        -> prints /…/.cache/kernel/<key>/vmlinux
#
# stdout: exactly one line, the absolute path of the cached vmlinux.
# stderr: progress and build logs.
#
# Cache key = sha256 over (kernel source version, scaibunker.config, this script, patches/).
# A hit returns at once; a miss unpacks the source into a temporary directory under
# the cache dir, runs tinyconfig + the fragment, verifies that every option the
# fragment sets survived `make olddefconfig`, builds vmlinux, and publishes
# <key>/{vmlinux,config,build-info} with one rename(2).
#
# Environment:
#   SCAIBUNKER_CACHE_DIR      cache root (default: /var/cache/scaibunker as root, else ~/.cache/scaibunker)
#   SCAIBUNKER_KERNEL_SOURCE  kernel source tarball (default: /usr/src/linux-source-6.1.tar.xz)
#   SCAIBUNKER_KEEP_BUILD=1   keep the temporary build tree when the build fails
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
FRAGMENT="$SCRIPT_DIR/scaibunker.config"
# This script lives in <repo>/packages/worker/guest-kernel.
REPO_ROOT=$(cd "$SCRIPT_DIR/../../.." && pwd -P)
if [ "$(id -u)" -eq 0 ]; then DEFAULT_CACHE=/var/cache/scaibunker; else DEFAULT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/scaibunker"; fi
CACHE_ROOT="${SCAIBUNKER_CACHE_DIR:-$DEFAULT_CACHE}"
KERNEL_TARBALL="${SCAIBUNKER_KERNEL_SOURCE:-/usr/src/linux-source-6.1.tar.xz}"
APT_DEPS="bc bison flex libelf-dev libssl-dev xz-utils make gcc"

log() { printf '[guest-kernel] %s\n' "$*" >&2; }
die() { printf '[guest-kernel] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -f "$FRAGMENT" ]] || die "missing config fragment $FRAGMENT"
[[ -f "$KERNEL_TARBALL" ]] ||
  die "kernel source $KERNEL_TARBALL not found; install it with: sudo apt-get install -y linux-source-6.1"

# --- cache key ------------------------------------------------------------------------
# The Debian package version (e.g. linux-source-6.1=6.1.176-1) identifies the source,
# Debian patches included, without decompressing 140 MB. A tarball no package owns
# (SCAIBUNKER_KERNEL_SOURCE=…) is identified by its own sha256.
source_version() {
  local pkg ver
  if command -v dpkg-query >/dev/null 2>&1 &&
    pkg=$(dpkg-query -S "$KERNEL_TARBALL" 2>/dev/null | head -n1 | cut -d: -f1) && [[ -n "$pkg" ]] &&
    ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null) && [[ -n "$ver" ]]; then
    printf 'deb:%s=%s\n' "$pkg" "$ver"
  else
    printf 'sha256:%s\n' "$(sha256sum <"$KERNEL_TARBALL" | cut -d' ' -f1)"
  fi
}

# Our few changes to the kernel source, applied in name order (see patches/*.patch).
PATCHES=()
for patch in "$SCRIPT_DIR"/patches/*.patch; do [[ -f "$patch" ]] && PATCHES+=("$patch"); done

SOURCE_VERSION=$(source_version)
KEY=$(
  {
    printf 'kernel-source %s\n' "$SOURCE_VERSION"
    printf 'fragment %s\n' "$(sha256sum <"$FRAGMENT" | cut -d' ' -f1)"
    printf 'build.sh %s\n' "$(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
    for patch in "${PATCHES[@]}"; do printf 'patch %s %s\n' "$(basename "$patch")" "$(sha256sum <"$patch" | cut -d' ' -f1)"; done
  } | sha256sum | cut -d' ' -f1
)
KERNEL_CACHE="$CACHE_ROOT/kernel"
OUT_DIR="$KERNEL_CACHE/$KEY"
VMLINUX="$OUT_DIR/vmlinux"

if [[ -f "$VMLINUX" ]]; then
  printf '%s\n' "$VMLINUX"
  exit 0
fi

# --- build dependencies ------------------------------------------------------------------
[[ "$(uname -m)" == x86_64 ]] || die "the guest kernel is built natively: this needs an x86_64 host, not $(uname -m)"
missing=()
for pair in bc:bc bison:bison flex:flex make:make gcc:gcc xz:xz-utils tar:tar patch:patch; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
if command -v gcc >/dev/null 2>&1; then
  # objtool needs libelf; scripts/ (certificate tooling) needs OpenSSL headers.
  echo '#include <gelf.h>' | gcc -E -x c - >/dev/null 2>&1 || missing+=(libelf-dev)
  echo '#include <openssl/opensslv.h>' | gcc -E -x c - >/dev/null 2>&1 || missing+=(libssl-dev)
fi
if ((${#missing[@]})); then
  die "missing build dependencies: ${missing[*]}
  install them with: sudo apt-get install -y ${missing[*]}
  (full list: $APT_DEPS)
  (the project's setup script normally does this)"
fi

mkdir -p "$KERNEL_CACHE"

# One build at a time per cache (a build already uses every core); a concurrent
# caller for the same key waits and then hits. The lock file is never deleted, so
# every caller locks the same inode.
exec 9>"$KERNEL_CACHE/.build.lock"
if ! flock -n 9; then
  log "another guest-kernel build is running; waiting for it"
  flock 9
fi
if [[ -f "$VMLINUX" ]]; then
  printf '%s\n' "$VMLINUX"
  exit 0
fi
# Builders hold the lock for their whole run, so any build/stage dir left now belongs to
# a builder that was killed (or was kept with SCAIBUNKER_KEEP_BUILD=1): reclaim it.
for stale in "$KERNEL_CACHE"/.build.* "$KERNEL_CACHE"/.stage.*; do
  [[ -d "$stale" ]] || continue
  log "removing leftover $stale"
  rm -rf "$stale"
done

BUILD_DIR=$(mktemp -d "$KERNEL_CACHE/.build.$KEY.XXXXXX")
STAGE_DIR=""
ok=0
cleanup() {
  if [[ -n "$STAGE_DIR" && -d "$STAGE_DIR" ]]; then rm -rf "$STAGE_DIR"; fi
  if ((ok == 0)) && [[ "${SCAIBUNKER_KEEP_BUILD:-0}" == 1 ]]; then
    log "build failed; tree kept in $BUILD_DIR"
  else
    rm -rf "$BUILD_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

t_total=$(now)
log "cache miss: key $KEY ($SOURCE_VERSION)"
log "unpacking $KERNEL_TARBALL into $BUILD_DIR"
t=$(now)
SRC="$BUILD_DIR/src"
mkdir "$SRC"
tar -xJf "$KERNEL_TARBALL" -C "$SRC" --strip-components=1
t_unpack=$(elapsed "$t")
log "unpacked in ${t_unpack}s"
for patch in "${PATCHES[@]}"; do
  log "applying $(basename "$patch")"
  patch -d "$SRC" -p1 --forward --quiet <"$patch" >&2 || die "$(basename "$patch") does not apply to $SOURCE_VERSION"
done

# Reproducible-ish build metadata (uname -v inside the guest).
export KBUILD_BUILD_USER=scaibunker KBUILD_BUILD_HOST=scaibunker
export KBUILD_BUILD_TIMESTAMP="ScaiBunker guest kernel"
MAKE=(make -C "$SRC" ARCH=x86_64)

t=$(now)
"${MAKE[@]}" tinyconfig >&2 || die "make tinyconfig failed"
(cd "$SRC" && scripts/kconfig/merge_config.sh -m .config "$FRAGMENT") >&2 || die "merge_config.sh failed"
"${MAKE[@]}" olddefconfig >&2 || die "make olddefconfig failed"

# --- verify the fragment survived Kconfig ----------------------------------------------
# olddefconfig silently drops options whose dependencies are not met; the guest would
# then boot without e.g. its root disk driver. Every line of the fragment must hold.
dropped=()
while IFS= read -r line; do
  if [[ "$line" =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
    name=${BASH_REMATCH[1]}
    if got=$(grep -E "^$name=" "$SRC/.config"); then
      dropped+=("$line  (final: $got)")
    fi
  elif [[ "$line" =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
    name=${BASH_REMATCH[1]}
    got=$(grep -E "^$name=" "$SRC/.config" || grep -E "^# $name is not set" "$SRC/.config" || echo "absent")
    [[ "$got" == "$line" ]] || dropped+=("$line  (final: $got)")
  fi
done < <(sed -e 's/[[:space:]]*$//' "$FRAGMENT" | grep -E '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set$)')
if ((${#dropped[@]})); then
  printf '[guest-kernel] ERROR: %d option(s) of %s did not make it into the final .config\n' \
    "${#dropped[@]}" "$FRAGMENT" >&2
  printf '[guest-kernel]   %s\n' "${dropped[@]}" >&2
  die "fix the fragment (usually a missing dependency) and rerun"
fi
t_config=$(elapsed "$t")
log "config verified ($(grep -cE '^(CONFIG_|# CONFIG_[A-Za-z0-9_]+ is not set$)' "$FRAGMENT") fragment lines hold) in ${t_config}s"

JOBS=$(nproc)
log "building vmlinux with -j$JOBS"
t=$(now)
"${MAKE[@]}" -j"$JOBS" vmlinux >&2 || die "make vmlinux failed (see the log above)"
t_build=$(elapsed "$t")
log "vmlinux built in ${t_build}s"

# --- publish atomically --------------------------------------------------------------------
STAGE_DIR=$(mktemp -d "$KERNEL_CACHE/.stage.$KEY.XXXXXX")
cp "$SRC/vmlinux" "$STAGE_DIR/vmlinux"
cp "$SRC/.config" "$STAGE_DIR/config"
kernelrelease=$("${MAKE[@]}" -s kernelrelease 2>/dev/null || echo unknown)
{
  printf 'key=%s\n' "$KEY"
  printf 'kernel_source=%s\n' "$SOURCE_VERSION"
  printf 'kernel_release=%s\n' "$kernelrelease"
  printf 'compiler=%s\n' "$(gcc --version | head -n1)"
  printf 'built_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'host_cpus=%s\n' "$JOBS"
  printf 'seconds_unpack=%s\nseconds_config=%s\nseconds_make_vmlinux=%s\n' "$t_unpack" "$t_config" "$t_build"
  printf 'seconds_total=%s\n' "$(elapsed "$t_total")"
} >"$STAGE_DIR/build-info"
chmod 0755 "$STAGE_DIR"
chmod 0644 "$STAGE_DIR"/*
if ! mv -T "$STAGE_DIR" "$OUT_DIR" 2>/dev/null; then
  # Lost a race with a builder that did not share our lock (e.g. another cache dir
  # mount); its result is equivalent.
  [[ -f "$VMLINUX" ]] || die "could not publish $OUT_DIR"
fi
STAGE_DIR=""
ok=1
log "done in $(elapsed "$t_total")s: vmlinux is $(stat -c %s "$VMLINUX") bytes"
printf '%s\n' "$VMLINUX"
