#!/usr/bin/env bash
# Build the VMM jailer when its source changed, and print where it is.
#
#   packages/worker/jailer/build.sh    -> prints /…/packages/worker/jailer/dist/scaibunker-jailer
#
# stdout: exactly one line, the absolute path of the binary; stderr: the compiler's output.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
OUT="$HERE/dist/scaibunker-jailer"
command -v gcc >/dev/null 2>&1 || { echo "[jailer] ERROR: gcc not found; install it with: sudo apt-get install -y gcc" >&2; exit 1; }

mkdir -p "$HERE/dist"
if [ ! -x "$OUT" ] || [ "$HERE/jailer.c" -nt "$OUT" ]; then
  # Two workers starting at once must not race on the same output file.
  exec 9>"$HERE/dist/.build.lock"
  flock 9
  if [ ! -x "$OUT" ] || [ "$HERE/jailer.c" -nt "$OUT" ]; then
    gcc -std=c11 -O2 -Wall -Wextra -Wshadow -Wformat=2 -Werror -fstack-protector-strong \
      -o "$OUT.tmp" "$HERE/jailer.c" >&2
    mv "$OUT.tmp" "$OUT"
  fi
fi
printf '%s\n' "$OUT"
