#!/usr/bin/env bash
# Boot Debian's stock cloud kernel (stock-kernel.sh: vmlinux + initramfs) N times under QEMU
# microvm and report spawn -> marker times.
#
#   packages/worker/guest-kernel/stock-smoke-test.sh           # stock-kernel.sh (cached), 5 boots
#   SMOKE_BOOTS=3 SMOKE_TIMEOUT=60 stock-smoke-test.sh
#   SMOKE_ACPI=off stock-smoke-test.sh                          # shows why the kernel needs ACPI
#   SMOKE_MEMORY_MB=128 SMOKE_SMP=2 SMOKE_STOCK_ARGS= SMOKE_EXTRA_APPEND=ignore_loglevel stock-smoke-test.sh
#   STOCK_KERNEL=/path/vmlinuz STOCK_INITRD=/path/initrd stock-smoke-test.sh
#
# The root disk is a busybox-static ext4 image whose /init (started by the initramfs's
# switch_root, as init=/init) prints a marker as its first action, then checks that it is
# PID 1 on the ext4 root with devtmpfs on /dev, that the virtio modules are loaded, that
# the agent's port is there (/sys/class/virtio-ports/*/name and its /dev/vport*), and that
# /dev/hwrng gives data from virtio-rng and that virtio-net bound eth0; then it does
# `reboot -f` (QEMU exits: -no-reboot).
# Every boot runs under `timeout`. Exit status 0 only if every boot passed every check.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BOOTS=${SMOKE_BOOTS:-5}
TIMEOUT=${SMOKE_TIMEOUT:-60}
ACPI=${SMOKE_ACPI:-on}
MEMORY_MB=${SMOKE_MEMORY_MB:-256}
SMP=${SMOKE_SMP:-1}
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
MARKER=SCAIBUNKER_GUEST_INIT_STARTED
PORT_NAME=org.scaibunker.agent.0
EXTRA_APPEND=${SMOKE_EXTRA_APPEND:-}
# What this kernel needs beyond the minimal kernel's command line (SMOKE_STOCK_ARGS= to
# measure without): noreplace-smp (the minimal kernel has it built in) keeps a 1-vCPU guest
# from patching out every LOCK prefix, slow under TCG; cryptomgr.notests skips the crypto
# self-tests. Together ~0.4 s of a ~2 s boot.
STOCK_ARGS=${SMOKE_STOCK_ARGS-noreplace-smp cryptomgr.notests}

log() { printf '[stock-smoke] %s\n' "$*" >&2; }
die() { printf '[stock-smoke] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in "$QEMU" mkfs.ext4 timeout awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install -y qemu-system-x86 e2fsprogs coreutils gawk)"
done
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found (apt-get install -y busybox-static)"
((BASH_VERSINFO[0] >= 5)) || die "bash >= 5 needed (EPOCHREALTIME)"

if [[ -z "${STOCK_KERNEL:-}" || -z "${STOCK_INITRD:-}" ]]; then
  mapfile -t paths < <("$SCRIPT_DIR/stock-kernel.sh")
  ((${#paths[@]} == 2)) || die "stock-kernel.sh printed ${#paths[@]} line(s), expected 2"
  STOCK_KERNEL=${STOCK_KERNEL:-${paths[0]}}
  STOCK_INITRD=${STOCK_INITRD:-${paths[1]}}
fi
[[ -f "$STOCK_KERNEL" && -f "$STOCK_INITRD" ]] || die "no kernel at $STOCK_KERNEL or no initrd at $STOCK_INITRD"
TSC_KHZ=$("$SCRIPT_DIR/tsc-khz.sh")
log "kernel: $STOCK_KERNEL ($(stat -c %s "$STOCK_KERNEL") bytes)"
log "initrd: $STOCK_INITRD ($(stat -c %s "$STOCK_INITRD") bytes)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scaibunker-stock-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- rootfs ---------------------------------------------------------------------------------
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,run,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ "$applet" == busybox ]] || ln -s busybox "$ROOT/bin/$applet"
done
cat >"$ROOT/init" <<EOF
#!/bin/sh
echo $MARKER
export PATH=/bin
fail=0
check() { # \$1 = name, \$2 = OK or FAIL, rest = detail
  echo "SMOKE \$1 \$2 \$3"
  [ "\$2" = OK ] || fail=1
}
mount -t proc proc /proc
mount -t sysfs sysfs /sys
read up idle </proc/uptime
echo "SMOKE guest uptime at init \${up}s (kernel start -> root /init, guest clock)"
echo "SMOKE kernel \$(uname -r)"
echo "SMOKE cmdline \$(cat /proc/cmdline)"

if [ \$\$ -eq 1 ]; then check pid1 OK "the root's /init is PID 1"; else check pid1 FAIL "PID \$\$"; fi
rootfs=\$(awk '\$2 == "/" { t = \$3 } END { print t }' /proc/mounts)
devfs=\$(awk '\$2 == "/dev" { t = \$3 } END { print t }' /proc/mounts)
if [ "\$rootfs" = ext4 ] && [ "\$devfs" = devtmpfs ]; then
  check mounts OK "/ is ext4, /dev is devtmpfs"
else
  check mounts FAIL "/ is '\$rootfs', /dev is '\$devfs'"
fi
mods=\$(awk '{ printf "%s ", \$1 }' /proc/modules)
missing=""
for m in virtio_mmio virtio_blk virtio_console virtio_rng; do
  case " \$mods" in *" \$m "*) ;; *) missing="\$missing \$m" ;; esac
done
if [ -z "\$missing" ]; then check modules OK "loaded: \$mods"; else check modules FAIL "missing:\$missing (loaded: \$mods)"; fi

# The host sends the port name after the guest reports the port ready: allow ~3 s.
port=""
i=0
while [ \$i -lt 60 ]; do
  for f in /sys/class/virtio-ports/*/name; do
    [ -r "\$f" ] && [ "\$(cat "\$f")" = "$PORT_NAME" ] && port=\${f%/name}
  done
  [ -n "\$port" ] && break
  usleep 50000
  i=\$((i + 1))
done
if [ -n "\$port" ] && [ -c "/dev/\${port##*/}" ]; then
  check virtio-port OK "\$port/name = $PORT_NAME, /dev/\${port##*/} is a char device (/dev/vport*: \$(echo /dev/vport*))"
else
  check virtio-port FAIL "no $PORT_NAME (ports: \$(ls /sys/class/virtio-ports 2>&1), /dev/vport*: \$(echo /dev/vport*))"
fi

rng=\$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
bytes=""
[ -c /dev/hwrng ] && bytes=\$(timeout 5 dd if=/dev/hwrng bs=16 count=1 2>/dev/null | hexdump -v -e '16/1 "%02x"')
case "\$rng" in
  virtio_rng*) [ \${#bytes} -eq 32 ] && check rng OK "/dev/hwrng rng_current=\$rng sample=\$bytes" ||
    check rng FAIL "/dev/hwrng (\$rng) returned no data" ;;
  *) check rng FAIL "rng_current='\$rng', /dev/hwrng: \$(ls -l /dev/hwrng 2>&1)" ;;
esac

netdrv=\$(readlink /sys/class/net/eth0/device/driver 2>/dev/null)
if [ "\${netdrv##*/}" = virtio_net ]; then
  check net OK "eth0 is bound to virtio_net"
else
  check net FAIL "no eth0 on virtio_net (/sys/class/net: \$(ls /sys/class/net))"
fi

if [ \$fail -eq 0 ]; then echo "SMOKE RESULT PASS"; else echo "SMOKE RESULT FAIL"; fi
reboot -f
EOF
chmod 0755 "$ROOT/init"
PRISTINE="$WORK/rootfs.pristine.ext4"
truncate -s 16M "$PRISTINE"
mkfs.ext4 -q -F -L scaibunker-smoke -d "$ROOT" "$PRISTINE"
IMAGE="$WORK/rootfs.ext4"

# What the QEMU driver passes, minus nolapic_timer and plus STOCK_ARGS. Under microvm's
# hardware-reduced ACPI this kernel sets up no PIT, so the LAPIC timer is its only clock
# event; without it every sleep in the guest hangs. init= is read by the initramfs.
APPEND="console=ttyS0 root=/dev/vda rootfstype=ext4 rw init=/init quiet reboot=t panic=-1 random.trust_cpu=on tsc=reliable no_timer_check tsc_early_khz=$TSC_KHZ${STOCK_ARGS:+ $STOCK_ARGS}${EXTRA_APPEND:+ $EXTRA_APPEND}"
log "machine: microvm,rtc=on,acpi=$ACPI, ${MEMORY_MB} MiB, $SMP vCPU"
log "append: $APPEND"

boot_once() { # $1 = boot number; prints the ms to the marker on stdout
  local n=$1 out="$WORK/boot-$1.log" t0 rc marker_at ms up
  cp "$PRISTINE" "$IMAGE"
  rm -f "$WORK/agent.sock"
  t0=$EPOCHREALTIME
  set +e
  timeout --kill-after=5 "$TIMEOUT" "$QEMU" \
    -M "microvm,rtc=on,acpi=$ACPI" -accel tcg,thread=multi -cpu max -m "${MEMORY_MB}M" -smp "$SMP" \
    -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
    -kernel "$STOCK_KERNEL" -initrd "$STOCK_INITRD" -append "$APPEND" \
    -drive id=root,file="$IMAGE",format=raw,if=none -device virtio-blk-device,drive=root \
    -device virtio-serial-device,max_ports=2 \
    -chardev socket,id=agent,path="$WORK/agent.sock",server=on,wait=off \
    -device virtserialport,chardev=agent,name="$PORT_NAME" \
    -device virtio-rng-device \
    -netdev user,id=net0,restrict=on -device virtio-net-device,netdev=net0 \
    </dev/null 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done >"$out"
  rc=${PIPESTATUS[0]}
  set -e
  marker_at=$(awk -v m="$MARKER" '$2 == m { print $1; exit }' "$out")
  if ((rc == 124 || rc == 137)) || [[ -z "$marker_at" ]] || ! grep -q ' SMOKE RESULT PASS$' "$out" || ((rc != 0)); then
    log "boot $n: FAILED (qemu exit $rc$( ((rc == 124 || rc == 137)) && echo ", timeout after ${TIMEOUT}s")$([[ -n "$marker_at" ]] || echo ', no marker')); console:"
    cut -d' ' -f2- "$out" | sed 's/^/    /' >&2
    return 1
  fi
  ms=$(awk -v a="$t0" -v b="$marker_at" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  if ((n == 1)); then cut -d' ' -f2- "$out" | grep -v '^$' | sed 's/^/    guest| /' >&2; fi
  up=$(sed -nE 's/^[0-9.]+ SMOKE guest uptime at init ([0-9.]+)s.*/\1/p' "$out")
  log "boot $n: marker after ${ms} ms (guest uptime at root /init ${up:-?} s), all checks passed"
  echo "$ms"
}

times=()
failed=0
for ((i = 1; i <= BOOTS; i++)); do
  if ms=$(boot_once "$i"); then times+=("$ms"); else failed=$((failed + 1)); fi
done
if ((${#times[@]})); then
  printf '%s\n' "${times[@]}" | sort -n | awk -v failed="$failed" '
    { v[NR] = $1 }
    END {
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "[stock-smoke] spawn -> marker over %d boot(s) (%d failed): median %.0f ms, min %d ms, max %d ms\n",
        NR, failed, med, v[1], v[NR]
    }' >&2
fi
((failed == 0)) || die "$failed of $BOOTS boot(s) failed"
log "PASS"
