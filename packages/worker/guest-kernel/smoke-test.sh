#!/usr/bin/env bash
# Boot the ScaiBunker guest kernel N times under QEMU microvm and report
# spawn -> marker times.
#
#   packages/worker/guest-kernel/smoke-test.sh            # build.sh (cached), then 10 boots
#   SMOKE_BOOTS=3 SMOKE_TIMEOUT=20 VMLINUX=/path/vmlinux smoke-test.sh
#   SMOKE_SMP=2 smoke-test.sh                              # 2 vCPUs (no nolapic_timer)
#
# The rootfs is a busybox-static ext4 image whose /init prints a marker on the serial
# console as its first action, then checks the clocksource (TSC, not jiffies), the
# virtio-serial port name, the virtio-rng device, /dev/shm and FIFREEZE, prints the
# results and does `reboot -f` (QEMU exits:
# -no-reboot). Every boot runs under `timeout`; a hang is a failure, never a stall.
# Exit status 0 only if every boot printed the marker and passed every check.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
BOOTS=${SMOKE_BOOTS:-10}
TIMEOUT=${SMOKE_TIMEOUT:-30}
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=${BUSYBOX:-/bin/busybox}
MARKER=SCAIBUNKER_GUEST_INIT_STARTED
PORT_NAME=org.scaibunker.agent.0
# Extra kernel arguments, for experiments (e.g. SMOKE_EXTRA_APPEND='printk.time=1').
EXTRA_APPEND=${SMOKE_EXTRA_APPEND:-}
# vCPUs. nolapic_timer (saves the ~170 ms LAPIC timer calibration) is only for
# 1-vCPU guests; with more, the LAPIC timer stays on.
SMP=${SMOKE_SMP:-1}

log() { printf '[smoke] %s\n' "$*" >&2; }
die() { printf '[smoke] ERROR: %s\n' "$*" >&2; exit 1; }

for tool in "$QEMU" mkfs.ext4 timeout awk; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install -y qemu-system-x86 e2fsprogs coreutils gawk)"
done
[[ -x "$BUSYBOX" ]] || die "$BUSYBOX not found (apt-get install -y busybox-static)"
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || log "warning: $BUSYBOX may not be static"
((BASH_VERSINFO[0] >= 5)) || die "bash >= 5 needed (EPOCHREALTIME)"

VMLINUX=${VMLINUX:-$("$SCRIPT_DIR/build.sh")}
[[ -f "$VMLINUX" ]] || die "no vmlinux at $VMLINUX"
TSC_KHZ=$("$SCRIPT_DIR/tsc-khz.sh")
log "vmlinux: $VMLINUX ($(stat -c %s "$VMLINUX") bytes)"
log "host TSC: $TSC_KHZ kHz"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/scaibunker-smoke.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

# --- rootfs ---------------------------------------------------------------------------------
ROOT="$WORK/root"
mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,run,etc}
cp "$BUSYBOX" "$ROOT/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ "$applet" == busybox ]] || ln -s busybox "$ROOT/bin/$applet"
done
cat >"$ROOT/init" <<EOF
#!/bin/sh
# PID 1. stdout/stderr are /dev/console = ttyS0 (console=ttyS0).
echo $MARKER
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
read up idle </proc/uptime
echo "SMOKE guest uptime at init \${up}s (kernel start -> /init, guest clock)"
mkdir -p /dev/pts /dev/shm
mount -t devpts -o ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
fail=0

echo "SMOKE kernel \$(uname -r) \$(uname -v)"
echo "SMOKE cmdline \$(cat /proc/cmdline)"
cs=\$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
case "\$cs" in
  tsc|tsc-early|kvm-clock) echo "SMOKE clocksource OK \$cs (\$(nproc) vCPU)" ;;
  *) echo "SMOKE clocksource FAIL \$cs: TSC rejected, clock_gettime falls back to jiffies"; fail=1 ;;
esac

# The host sends the port name after the guest reports the port ready: allow ~3 s.
port=""
i=0
while [ \$i -lt 60 ]; do
  for f in /sys/class/virtio-ports/*/name; do
    [ -r "\$f" ] || continue
    n=\$(cat "\$f")
    if [ "\$n" = "$PORT_NAME" ]; then port="\$f"; fi
  done
  [ -n "\$port" ] && break
  usleep 50000
  i=\$((i + 1))
done
if [ -n "\$port" ]; then
  d=\${port%/name}
  echo "SMOKE virtio-port OK \$port = \$(cat \$port) (/dev/\${d##*/})"
else
  echo "SMOKE virtio-port FAIL: no $PORT_NAME in /sys/class/virtio-ports/*/name:"
  ls -l /sys/class/virtio-ports/ 2>&1
  fail=1
fi

rng=\$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
if [ -c /dev/hwrng ] && [ -n "\$rng" ] && [ "\$rng" != none ]; then
  bytes=\$(timeout 5 dd if=/dev/hwrng bs=16 count=1 2>/dev/null | hexdump -v -e '16/1 "%02x"')
  if [ \${#bytes} -eq 32 ]; then
    echo "SMOKE rng OK /dev/hwrng rng_current=\$rng available=\$(cat /sys/class/misc/hw_random/rng_available) sample=\$bytes"
  else
    echo "SMOKE rng FAIL: /dev/hwrng (\$rng) returned no data"
    fail=1
  fi
else
  echo "SMOKE rng FAIL: /dev/hwrng missing or no current rng (rng_current='\$rng')"
  fail=1
fi

if grep -q ' /dev/shm tmpfs ' /proc/mounts && echo x > /dev/shm/probe; then
  echo "SMOKE shm OK"
else
  echo "SMOKE shm FAIL"
  fail=1
fi

# FIFREEZE/FITHAW on the ext4 root (the snapshot quiesce path).
if fsfreeze --freeze / && fsfreeze --unfreeze /; then
  echo "SMOKE fsfreeze OK"
else
  echo "SMOKE fsfreeze FAIL"
  fail=1
fi

if [ \$fail -eq 0 ]; then echo "SMOKE RESULT PASS"; else echo "SMOKE RESULT FAIL"; fi
reboot -f
EOF
chmod 0755 "$ROOT/init"
PRISTINE="$WORK/rootfs.pristine.ext4"
truncate -s 16M "$PRISTINE"
mkfs.ext4 -q -F -L scaibunker-smoke -d "$ROOT" "$PRISTINE"
IMAGE="$WORK/rootfs.ext4"

LAPIC_ARG=""
((SMP == 1)) && LAPIC_ARG=" nolapic_timer"
APPEND="console=ttyS0 root=/dev/vda rootfstype=ext4 rw init=/init quiet reboot=t panic=-1 tsc_early_khz=$TSC_KHZ${LAPIC_ARG} random.trust_cpu=on${EXTRA_APPEND:+ $EXTRA_APPEND}"
log "append: $APPEND"

boot_once() { # $1 = boot number; prints the ms to the marker on stdout
  local n=$1 out="$WORK/boot-$1.log" t0 rc marker_at ms up
  cp "$PRISTINE" "$IMAGE" # every boot starts from the same, clean filesystem
  rm -f "$WORK/agent.sock"
  t0=$EPOCHREALTIME
  set +e
  timeout --kill-after=5 "$TIMEOUT" "$QEMU" \
    -M microvm,rtc=on,acpi=off -accel tcg,thread=multi -cpu max -m 128 -smp "$SMP" \
    -nodefaults -no-user-config -nographic -no-reboot -serial stdio \
    -kernel "$VMLINUX" -append "$APPEND" \
    -drive id=root,file="$IMAGE",format=raw,if=none -device virtio-blk-device,drive=root \
    -device virtio-serial-device \
    -chardev socket,id=agent,path="$WORK/agent.sock",server=on,wait=off \
    -device virtserialport,chardev=agent,name="$PORT_NAME" \
    -device virtio-rng-device \
    </dev/null 2>&1 |
    while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"; done >"$out"
  rc=${PIPESTATUS[0]}
  set -e
  marker_at=$(awk -v m="$MARKER" '$2 == m { print $1; exit }' "$out")
  if ((rc == 124 || rc == 137)); then
    log "boot $n: TIMEOUT after ${TIMEOUT}s; console:"
    cut -d' ' -f2- "$out" | sed 's/^/    /' >&2
    return 1
  fi
  if [[ -z "$marker_at" ]]; then
    log "boot $n: no marker (qemu exit $rc); console:"
    cut -d' ' -f2- "$out" | sed 's/^/    /' >&2
    return 1
  fi
  if ! grep -q ' SMOKE RESULT PASS$' "$out" || ((rc != 0)); then
    log "boot $n: checks failed (qemu exit $rc); console:"
    cut -d' ' -f2- "$out" | sed 's/^/    /' >&2
    return 1
  fi
  ms=$(awk -v a="$t0" -v b="$marker_at" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
  if ((n == 1)); then cut -d' ' -f2- "$out" | grep -v '^$' | sed 's/^/    guest| /' >&2; fi
  up=$(sed -nE 's/^[0-9.]+ SMOKE guest uptime at init ([0-9.]+)s.*/\1/p' "$out")
  log "boot $n: marker after ${ms} ms (guest uptime at /init ${up:-?} s), total $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms, all checks passed"
  echo "$ms"
}

times=()
failed=0
for ((i = 1; i <= BOOTS; i++)); do
  if ms=$(boot_once "$i"); then times+=("$ms"); else failed=$((failed + 1)); fi
done

if ((${#times[@]})); then
  printf '%s\n' "${times[@]}" | sort -n | awk -v total="$BOOTS" -v failed="$failed" '
    { v[NR] = $1 }
    END {
      med = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "[smoke] spawn -> marker over %d boot(s) (%d failed): median %.0f ms, min %d ms, max %d ms\n",
        NR, failed, med, v[1], v[NR]
    }' >&2
fi
((failed == 0)) || die "$failed of $BOOTS boot(s) failed"
log "PASS"
