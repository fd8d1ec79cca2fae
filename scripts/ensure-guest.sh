#!/usr/bin/env bash
# Makes the microVM runtime ready on this host: the Debian packages it needs (bunker networks
# too: ip, nft, tcpdump reading the firewall's refusals from nflog, conntrack for the egress
# audit), the guest kernel (built once per kernel version + config, ~4 min on 2 cores), the
# guest agent, the built-in images, and the accelerator decision. Idempotent: a second run
# only checks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/scripts/lib.sh"

ensure_apt_packages qemu-system-x86 qemu-utils e2fsprogs busybox-static musl-tools \
  linux-source-6.1 bc bison flex libelf-dev libssl-dev xz-utils cpio make gcc patch \
  clang libclang-rt-14-dev mmdebstrap umoci \
  iproute2 nftables tcpdump conntrack

# Machine-wide, so the kernel is built once per machine (the same default as the worker's).
if [ "$(id -u)" -eq 0 ]; then default_cache=/var/cache/scaibunker; else default_cache=${XDG_CACHE_HOME:-$HOME/.cache}/scaibunker; fi
export SCAIBUNKER_CACHE_DIR=${SCAIBUNKER_CACHE_DIR:-$default_cache}
log "guest kernel: $(bash "$root/packages/worker/guest-kernel/build.sh")"
log "fallback guest kernel (Debian's stock cloud kernel): $(bash "$root/packages/worker/guest-kernel/stock-kernel.sh" | tr '\n' ' ')"
log "guest agent: $(bash "$root/packages/guest/build.sh")"
cd "$root"
node packages/cli/bin/scaibunker.js vm prepare
