#!/usr/bin/env bash
# Build the guest agent when a source changed (make decides), and print where it is.
#
#   packages/guest/build.sh        -> prints /…/packages/guest/dist/scaibunker-agent
#
# stdout: exactly one line, the absolute path of the static binary.
# stderr: the build's output, if any.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

die() { printf '[guest-agent] ERROR: %s\n' "$*" >&2; exit 1; }
command -v make >/dev/null 2>&1 || die "make not found; install it with: sudo apt-get install -y make"
command -v musl-gcc >/dev/null 2>&1 ||
  die "musl-gcc not found; install it with: sudo apt-get install -y musl-tools"

mkdir -p "$HERE/dist"
# Two builds at once (say, two workers starting) would race on the same output file.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$HERE/dist/.build.lock"
  flock 9
fi
make -s -C "$HERE" all >&2
printf '%s\n' "$HERE/dist/scaibunker-agent"
