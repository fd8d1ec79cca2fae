#!/usr/bin/env bash
# Fetch Debian's stock cloud kernel and build a tiny initramfs for it (or return the cached
# pair): the fallback guest kernel, for when the minimal one of build.sh cannot be used.
#
#   packages/worker/guest-kernel/stock-kernel.sh   -> /…/stock-kernel/<key>/vmlinux
#                                                     /…/stock-kernel/<key>/initrd.img
#
# stdout: exactly two lines, the kernel (-kernel) and the initramfs (-initrd).
# stderr: progress.
#
# Nothing is installed on the host: the kernel package is fetched with `apt-get download`
# and unpacked with `dpkg-deb -x` into a temporary directory, so no /boot, initramfs-tools or
# grub hook ever runs. The kernel is the vmlinux extracted from the package's bzImage (booted
# directly through its PVH entry). The initramfs holds a static busybox, the virtio modules
# the cloud kernel builds as modules, and an /init that loads them, mounts the root disk
# and switch_roots to the kernel command line's init=. It needs `-M microvm,acpi=on`: this
# kernel lacks VIRTIO_MMIO_CMDLINE_DEVICES, so it finds virtio-mmio devices only via ACPI.
#
# Cache key = sha256 over (the kernel package and version, the busybox binary, this script).
# <key>/{vmlinux,initrd.img,config,build-info} appears with one rename(2).
#
# Environment:
#   SCAIBUNKER_CACHE_DIR              cache root (default: /var/cache/scaibunker as root, else ~/.cache/scaibunker)
#   SCAIBUNKER_STOCK_KERNEL_PACKAGE   meta package to follow (default: linux-image-cloud-amd64)
#   SCAIBUNKER_STOCK_KERNEL_DEB       use this .deb instead of downloading one (offline hosts)
#   BUSYBOX                           static busybox for the initramfs (default: /bin/busybox, busybox-static)
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
SCRIPT_PATH="$SCRIPT_DIR/$(basename "${BASH_SOURCE[0]}")"
if [ "$(id -u)" -eq 0 ]; then DEFAULT_CACHE=/var/cache/scaibunker; else DEFAULT_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/scaibunker"; fi
CACHE_ROOT="${SCAIBUNKER_CACHE_DIR:-$DEFAULT_CACHE}"
META_PACKAGE="${SCAIBUNKER_STOCK_KERNEL_PACKAGE:-linux-image-cloud-amd64}"
LOCAL_DEB="${SCAIBUNKER_STOCK_KERNEL_DEB:-}"
BUSYBOX="${BUSYBOX:-/bin/busybox}"
# What the guest needs as modules (whatever of it the kernel has built in is skipped):
# the virtio-mmio transport, the root disk and its filesystem, the agent's port, the RNG
# and the network. Dependencies are added from each module's modinfo.
WANTED_MODULES="virtio_mmio virtio_blk ext4 virtio_console virtio_rng virtio_net"

log() { printf '[stock-kernel] %s\n' "$*" >&2; }
die() { printf '[stock-kernel] ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -m)" == x86_64 ]] || die "this fetches an amd64 kernel: it needs an x86_64 host, not $(uname -m)"
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found; install it with: sudo apt-get install -y busybox-static"

# --- which kernel -----------------------------------------------------------------------------
# The meta package depends on the real one (linux-image-6.1.0-NN-cloud-amd64), whose version
# names the kernel exactly; a Debian point release changes it, and so the key. apt-cache takes
# ~0.5 s a call here (no pkgcache.bin), so one call answers when the dependency is pinned
# with `(= version)`, as Debian's meta packages do.
resolve_package() {
  local depends pkg ver
  depends=$(apt-cache show --no-all-versions "$META_PACKAGE" 2>/dev/null | sed -n 's/^Depends: //p')
  [[ "$depends" =~ (linux-image-[^ ,|]+)( \(= ([^\)]+)\))? ]] || return 1
  pkg=${BASH_REMATCH[1]}
  ver=${BASH_REMATCH[3]}
  if [[ -z "$ver" ]]; then
    ver=$(apt-cache policy "$pkg" 2>/dev/null | sed -nE 's/^ *Candidate: (.+)$/\1/p')
    [[ -n "$ver" && "$ver" != "(none)" ]] || return 1
  fi
  printf '%s=%s\n' "$pkg" "$ver"
}
if [[ -n "$LOCAL_DEB" ]]; then
  [[ -f "$LOCAL_DEB" ]] || die "SCAIBUNKER_STOCK_KERNEL_DEB=$LOCAL_DEB does not exist"
  PACKAGE="$(dpkg-deb -f "$LOCAL_DEB" Package)=$(dpkg-deb -f "$LOCAL_DEB" Version)"
elif ! PACKAGE=$(resolve_package); then
  [[ "$(id -u)" -eq 0 ]] || die "apt knows no $META_PACKAGE; run: sudo apt-get update"
  log "apt knows no $META_PACKAGE: running apt-get update"
  apt-get update >&2 || die "apt-get update failed"
  PACKAGE=$(resolve_package) || die "no installable package behind $META_PACKAGE"
fi

KEY=$(
  {
    printf 'package %s\n' "$PACKAGE"
    printf 'busybox %s\n' "$(sha256sum <"$BUSYBOX" | cut -d' ' -f1)"
    printf 'stock-kernel.sh %s\n' "$(sha256sum <"$SCRIPT_PATH" | cut -d' ' -f1)"
  } | sha256sum | cut -d' ' -f1
)
STOCK_CACHE="$CACHE_ROOT/stock-kernel"
OUT_DIR="$STOCK_CACHE/$KEY"
hit() {
  [[ -f "$OUT_DIR/vmlinux" && -f "$OUT_DIR/initrd.img" ]] || return 1
  printf '%s\n%s\n' "$OUT_DIR/vmlinux" "$OUT_DIR/initrd.img"
}
hit && exit 0

need() { # $1 = command, $2 = the Debian package that has it
  command -v "$1" >/dev/null 2>&1 || die "$1 not found; install it with: sudo apt-get install -y $2"
}
need dpkg-deb dpkg
need cpio cpio
need flock util-linux
if command -v file >/dev/null 2>&1 && ! file -L "$BUSYBOX" | grep -q 'statically linked'; then
  die "$BUSYBOX is not statically linked; the initramfs has no libc (install busybox-static)"
fi

mkdir -p "$STOCK_CACHE"
exec 9>"$STOCK_CACHE/.build.lock"
if ! flock -n 9; then
  log "another stock-kernel build is running; waiting for it"
  flock 9
fi
hit && exit 0
# Builders hold the lock for their whole run: any work dir left now is a killed builder's.
for stale in "$STOCK_CACHE"/.build.* "$STOCK_CACHE"/.stage.*; do
  [[ -d "$stale" ]] || continue
  log "removing leftover $stale"
  rm -rf "$stale"
done
WORK=$(mktemp -d "$STOCK_CACHE/.build.$KEY.XXXXXX")
STAGE_DIR=""
cleanup() {
  [[ -z "$STAGE_DIR" ]] || rm -rf "$STAGE_DIR"
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
t_total=$(now)
log "cache miss: key $KEY ($PACKAGE)"

# --- fetch and unpack (never install) ------------------------------------------------------------
if [[ -n "$LOCAL_DEB" ]]; then
  DEB="$LOCAL_DEB"
else
  mkdir "$WORK/deb"
  # apt downloads as _apt when it can reach the directory, else it warns and runs unsandboxed.
  chmod 0755 "$WORK"
  if [[ "$(id -u)" -eq 0 ]] && id _apt >/dev/null 2>&1; then chown _apt "$WORK/deb"; fi
  if ! (cd "$WORK/deb" && apt-get download -q "$PACKAGE" >&2); then
    [[ "$(id -u)" -eq 0 ]] || die "apt-get download $PACKAGE failed; try: sudo apt-get update"
    [[ -z "${SCAIBUNKER_STOCK_KERNEL_UPDATED:-}" ]] || die "apt-get download $PACKAGE failed after apt-get update"
    # Stale lists name a version the mirror may have dropped; the fresh ones may name
    # another package, and so another key: start over rather than retry this one.
    log "download failed: running apt-get update, then starting over"
    apt-get update >&2 || die "apt-get update failed"
    cleanup
    trap - EXIT
    exec 9>&-
    SCAIBUNKER_STOCK_KERNEL_UPDATED=1 exec bash "$SCRIPT_PATH"
  fi
  DEB=$(find "$WORK/deb" -maxdepth 1 -name '*.deb' -print -quit)
  [[ -n "$DEB" ]] || die "apt-get download left no .deb"
fi
PKG_ROOT="$WORK/pkg"
dpkg-deb -x "$DEB" "$PKG_ROOT"
VMLINUZ=$(find "$PKG_ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' -print -quit)
[[ -n "$VMLINUZ" ]] || die "no /boot/vmlinuz-* in $PACKAGE"
KVER=${VMLINUZ##*/vmlinuz-}
MODDIR="$PKG_ROOT/lib/modules/$KVER"
[[ -d "$MODDIR" ]] || die "no /lib/modules/$KVER in $PACKAGE"
log "unpacked $PACKAGE ($KVER) in $(elapsed "$t_total")s"

# --- vmlinux from the bzImage ------------------------------------------------------------------
# Like linux/scripts/extract-vmlinux, but exact: the boot header (protocol >= 2.08) says
# where the compressed payload is (setup_sects at 0x1f1, payload_offset/length at 0x248/0x24c),
# and its last 4 bytes are the uncompressed size, which the result must match.
le() { od -An -tu"$2" -j"$(($3))" -N"$2" "$1" | tr -d ' \n'; }
extract_vmlinux() { # $1 = bzImage, $2 = output
  local setup_sects offset length magic expected
  [[ "$(dd if="$1" bs=1 skip=$((0x202)) count=4 status=none)" == HdrS ]] || die "$1 is not a bzImage"
  (($(le "$1" 2 0x206) >= 0x208)) || die "$1: boot protocol older than 2.08 has no payload fields"
  setup_sects=$(le "$1" 1 0x1f1)
  ((setup_sects > 0)) || setup_sects=4
  offset=$(((setup_sects + 1) * 512 + $(le "$1" 4 0x248)))
  length=$(le "$1" 4 0x24c)
  expected=$(le "$1" 4 $((offset + length - 4)))
  magic=$(od -An -tx1 -j"$offset" -N6 "$1" | tr -d ' \n')
  local -a decompress
  case "$magic" in
    1f8b*) decompress=(gzip -dc) ;;
    fd377a585a00) decompress=(xz -dc) ;;
    425a68*) decompress=(bzip2 -dc) ;;
    5d0000*) decompress=(xz -dc --format=lzma) ;;
    02214c18*) decompress=(lz4 -dc) ;;
    28b52ffd*) decompress=(zstd -dc) ;;
    *) die "$1: unknown kernel compression (payload magic $magic)" ;;
  esac
  need "${decompress[0]}" "$(case ${decompress[0]} in xz) echo xz-utils ;; *) echo "${decompress[0]}" ;; esac)"
  dd if="$1" bs=64K iflag=skip_bytes,count_bytes skip="$offset" count="$((length - 4))" status=none |
    "${decompress[@]}" >"$2" ||
    die "decompressing the kernel with ${decompress[*]} failed"
  [[ "$(od -An -c -N4 "$2" | tr -d ' ')" == '177ELF' ]] || die "the kernel payload is not an ELF file"
  [[ "$(stat -c %s "$2")" == "$expected" ]] || die "vmlinux is $(stat -c %s "$2") bytes, the bzImage says $expected"
}
t=$(now)
extract_vmlinux "$VMLINUZ" "$WORK/vmlinux"
if command -v readelf >/dev/null 2>&1; then
  # XEN_ELFNOTE_PHYS32_ENTRY (18): QEMU boots an ELF kernel only through its PVH entry.
  readelf -n "$WORK/vmlinux" | grep -q 'Xen.*0x00000012' || die "vmlinux has no PVH entry note"
fi
log "vmlinux extracted ($(stat -c %s "$WORK/vmlinux") bytes) in $(elapsed "$t")s"

# --- modules ----------------------------------------------------------------------------------
# Debian ships no modules.dep (depmod runs at install), so dependencies come from each
# module's own modinfo `depends=`, which modpost wrote from its undefined symbols.
declare -A MODULE_PATH=()
while IFS= read -r -d '' ko; do
  name=${ko##*/}
  name=${name%%.ko*}
  MODULE_PATH[${name//-/_}]=$ko
done < <(find "$MODDIR/kernel" -name '*.ko*' -print0)
declare -A BUILTIN=()
while IFS= read -r line; do
  name=${line##*/}
  name=${name%%.ko*}
  BUILTIN[${name//-/_}]=1
done <"$MODDIR/modules.builtin"
module_cat() { # $1 = path; busybox insmod reads plain ELF only
  case "$1" in
    *.ko) cat "$1" ;;
    *.ko.xz) need xz xz-utils && xz -dc "$1" ;;
    *.ko.zst) need zstd zstd && zstd -dc "$1" ;;
    *.ko.gz) gzip -dc "$1" ;;
    *) die "unknown module format: $1" ;;
  esac
}
declare -A VISITED=()
LOAD_ORDER=()
BUILTIN_USED=()
add_module() { # depth-first: a module's dependencies load before it
  local name=$1 dep deps
  [[ -z "${VISITED[$name]:-}" ]] || return 0
  VISITED[$name]=1
  if [[ -n "${BUILTIN[$name]:-}" ]]; then
    BUILTIN_USED+=("$name")
    return 0
  fi
  [[ -n "${MODULE_PATH[$name]:-}" ]] || die "$KVER has no module or built-in named $name"
  deps=$(module_cat "${MODULE_PATH[$name]}" | tr '\0' '\n' | sed -n 's/^depends=//p')
  deps=${deps%%$'\n'*}
  for dep in ${deps//,/ }; do add_module "${dep//-/_}"; done
  LOAD_ORDER+=("$name")
}
for name in $WANTED_MODULES; do add_module "$name"; done
log "modules in load order: ${LOAD_ORDER[*]} (built in: ${BUILTIN_USED[*]:-none})"

# --- initramfs --------------------------------------------------------------------------------
RD="$WORK/initramfs"
mkdir -p "$RD"/{bin,lib/modules,proc,newroot}
cp "$BUSYBOX" "$RD/bin/busybox"
for applet in sh cat mount umount insmod switch_root usleep ls; do ln -s busybox "$RD/bin/$applet"; done
for name in "${LOAD_ORDER[@]}"; do
  module_cat "${MODULE_PATH[$name]}" >"$RD/lib/modules/$name.ko"
  printf '%s\n' "$name" >>"$RD/lib/modules/load-order"
done
cat >"$RD/init" <<'EOF'
#!/bin/sh
# PID 1 of the ScaiBunker stock-kernel initramfs (written by stock-kernel.sh): load the
# virtio modules, mount root= on /newroot and switch_root to init=. On failure PID 1 exits:
# the kernel panics, panic=-1 reboots, and QEMU's -no-reboot ends the VM.
export PATH=/bin
mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
mount -t proc -o nosuid,nodev,noexec proc /proc
die() { echo "scaibunker-initramfs: $*"; exit 1; }

# The kernel's own defaults where the command line is silent (read-only root), except init=.
root=/dev/vda rootfstype=ext4 rootflags="" mode=ro init=/sbin/scaibunker-agent params=""
set -f
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    root=*) root=${arg#root=} ;;
    rootfstype=*) rootfstype=${arg#rootfstype=} ;;
    rootflags=*) rootflags=${arg#rootflags=} ;;
    init=*) init=${arg#init=} ;;
    ro | rw) mode=$arg ;;
    # module.param=value: the kernel applies these to built-in code only (modprobe reads
    # them for modules), so insmod gets them below.
    *.*=*) params="$params $arg" ;;
  esac
done

while read -r mod; do
  args=""
  for p in $params; do
    case "$p" in "$mod".*) args="$args ${p#"$mod".}" ;; esac
  done
  insmod "/lib/modules/$mod.ko" $args || die "insmod $mod$args failed"
done </lib/modules/load-order

i=0
while [ ! -b "$root" ]; do
  [ $i -lt 500 ] || die "no root device $root after 5 s; /dev: $(ls /dev)"
  usleep 10000
  i=$((i + 1))
done
mount -t "$rootfstype" -o "$mode${rootflags:+,$rootflags}" "$root" /newroot || die "mount $root failed"
# Hand over what the minimal kernel gives its init: devtmpfs on /dev, nothing else.
umount /proc
if [ -d /newroot/dev ]; then mount --move /dev /newroot/dev; else umount /dev; fi
exec switch_root /newroot "$init" "$@"
EOF
chmod 0755 "$RD/init"

# A newc archive needs no root to hold /dev/console, which the kernel opens for /init's
# stdio before anything is mounted: write that entry by hand, then append cpio's archive
# of the rest (the kernel unpacks concatenated archives).
newc_entry() { # $1 = name, $2 = mode (octal), $3/$4 = rdev major/minor
  local name=$1 namesize=$((${#1} + 1)) pad
  printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
    0 "$((8#$2))" 0 0 1 0 0 0 0 "${3:-0}" "${4:-0}" "$namesize" 0
  printf '%s\0' "$name"
  pad=$(((4 - (110 + namesize) % 4) % 4))
  head -c "$pad" /dev/zero
}
t=$(now)
{
  newc_entry dev 40755
  newc_entry dev/console 20600 5 1
  newc_entry 'TRAILER!!!' 0
  (cd "$RD" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0)
} >"$WORK/initrd.cpio"
log "initramfs: $(stat -c %s "$WORK/initrd.cpio") bytes uncompressed, ${#LOAD_ORDER[@]} modules, in $(elapsed "$t")s"

# --- publish atomically -----------------------------------------------------------------------
STAGE_DIR=$(mktemp -d "$STOCK_CACHE/.stage.$KEY.XXXXXX")
mv "$WORK/vmlinux" "$STAGE_DIR/vmlinux"
mv "$WORK/initrd.cpio" "$STAGE_DIR/initrd.img"
cp "$PKG_ROOT/boot/config-$KVER" "$STAGE_DIR/config"
{
  printf 'key=%s\n' "$KEY"
  printf 'package=%s\n' "$PACKAGE"
  printf 'meta_package=%s\n' "$([[ -n "$LOCAL_DEB" ]] && echo "none ($LOCAL_DEB)" || echo "$META_PACKAGE")"
  printf 'kernel_release=%s\n' "$KVER"
  printf 'kernel=vmlinux extracted from /boot/vmlinuz-%s (PVH entry)\n' "$KVER"
  printf 'initrd=newc cpio, uncompressed\n'
  printf 'modules=%s\n' "${LOAD_ORDER[*]}"
  printf 'built_in=%s\n' "${BUILTIN_USED[*]:-}"
  printf 'busybox=%s\n' "$("$BUSYBOX" --help 2>&1 | sed -n 1p)"
  printf 'built_at=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'seconds_total=%s\n' "$(elapsed "$t_total")"
} >"$STAGE_DIR/build-info"
# The VMM runs under a jail uid: everything must be world-readable.
chmod 0755 "$STAGE_DIR"
chmod 0644 "$STAGE_DIR"/*
if ! mv -T "$STAGE_DIR" "$OUT_DIR" 2>/dev/null; then
  [[ -f "$OUT_DIR/initrd.img" ]] || die "could not publish $OUT_DIR"
fi
STAGE_DIR=""
log "done in $(elapsed "$t_total")s"
hit
