# Shared helpers of the set-up scripts. Every step checks before it acts, so a second run
# of any script skips what is already done.

log() { printf '\033[1m[scaibunker]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

APT_UPDATED_MARK=/var/lib/apt/periodic/scaibunker-apt-updated

# Installs the Debian packages that are missing, running `apt-get update` once if needed.
ensure_apt_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them with apt-get"
  log "installing ${missing[*]}"
  if [ ! -f "$APT_UPDATED_MARK" ] || ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -q >/dev/null
    mkdir -p "$(dirname "$APT_UPDATED_MARK")" && touch "$APT_UPDATED_MARK"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# Installs npm packages when node_modules is missing or older than the lockfile, then builds.
ensure_node_workspace() {
  local root=$1
  if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    log "installing npm packages"
    (cd "$root" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  log "building"
  (cd "$root" && npx tsc -b)
}
