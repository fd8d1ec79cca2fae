#!/usr/bin/env bash
# Print the host's TSC frequency in kHz (one integer on stdout; the method on stderr).
#
# Guests need it as `tsc_early_khz=<kHz>`: microvm has no HPET/PM timer, and when the
# guest's PIT calibration fails it hangs after "could not calculate TSC khz". Under
# both TCG (QEMU's RDTSC reads the host TSC) and KVM the guest TSC runs at the host
# TSC rate, so the host's value is the right one.
#
# Methods, most to least authoritative:
#   1. /sys/devices/system/cpu/cpu0/tsc_freq_khz   (only on kernels carrying that patch)
#   2. the kernel log: the last "tsc: Refined TSC clocksource calibration: N MHz", else
#      "tsc: Detected N MHz processor" (3 decimals of MHz = exact kHz). dmesg needs root
#      when kernel.dmesg_restrict=1, and the line can rotate out of the ring buffer on a
#      long-running host; journalctl -k -b is tried too.
#   3. /proc/cpuinfo "cpu MHz", trusted only when the CPU has constant_tsc and no
#      aperfmperf flag (then the kernel reports cpu_khz, the TSC rate; with aperfmperf
#      it reports the current, varying core clock instead).
set -euo pipefail

say() { printf 'tsc-khz: %s\n' "$*" >&2; }
valid() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 > 100000 && $1 < 20000000)); }
mhz_to_khz() { awk -v m="$1" 'BEGIN { printf "%d\n", m * 1000 + 0.5 }'; }

f=/sys/devices/system/cpu/cpu0/tsc_freq_khz
if [[ -r "$f" ]] && khz=$(tr -dc 0-9 <"$f") && valid "$khz"; then
  say "from $f"
  echo "$khz"
  exit 0
fi

from_log() {
  local log refined detected
  log=$("$@" 2>/dev/null) || return 1
  refined=$(sed -nE 's/.*tsc: Refined TSC clocksource calibration: ([0-9]+(\.[0-9]+)?) MHz.*/\1/p' <<<"$log" | tail -n1)
  detected=$(sed -nE 's/.*tsc: Detected ([0-9]+(\.[0-9]+)?) MHz processor.*/\1/p' <<<"$log" | tail -n1)
  if [[ -n "$refined" ]]; then mhz_to_khz "$refined"; elif [[ -n "$detected" ]]; then mhz_to_khz "$detected"; else return 1; fi
}
for cmd in "dmesg" "journalctl -k -b --no-pager -q"; do
  if command -v "${cmd%% *}" >/dev/null 2>&1 && khz=$(from_log $cmd) && valid "$khz"; then
    say "from the kernel log ($cmd)"
    echo "$khz"
    exit 0
  fi
done

flags=$(sed -n 's/^flags[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
mhz=$(sed -n 's/^cpu MHz[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo | head -n1)
if [[ " $flags " == *" constant_tsc "* && " $flags " != *" aperfmperf "* && -n "$mhz" ]] &&
  khz=$(mhz_to_khz "$mhz") && valid "$khz"; then
  say "from /proc/cpuinfo cpu MHz (constant_tsc, no aperfmperf)"
  echo "$khz"
  exit 0
fi

say "cannot determine the TSC frequency (no tsc_freq_khz, no readable 'tsc:' kernel log line, /proc/cpuinfo not trustworthy)"
exit 1
