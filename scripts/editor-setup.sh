#!/usr/bin/env bash
# Installs what the real-editor suite (test/editor/) and `npm run editor-demo` need, outside the
# project's own dependencies, into a cache folder that later runs reuse:
#   - Debian packages: chromium (the browser playwright-core drives) and the build dependencies of
#     code-server's native modules (libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config);
#   - Node 24 from the npm package `node@24` (code-server 4.139 needs it; the project stays on the
#     machine's Node, and Node 24 is put first on PATH for code-server only);
#   - code-server from the npm registry (about 2 minutes and 600 MB the first time).
# The folder is ${FWLENS_EDITOR_CACHE:-$HOME/.cache/fwlens-editor}; `ready.json` in it says that the
# setup finished and where everything is. The editor suite skips itself only when that file is absent.
# Usage: bash scripts/editor-setup.sh [--check]   (--check: say what is missing, install nothing)
set -euo pipefail

HOME_DIR="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}" # as node's os.homedir() (test/editor/harness.ts)
CACHE="${FWLENS_EDITOR_CACHE:-$HOME_DIR/.cache/fwlens-editor}"
CODE_SERVER_VERSION="${FWLENS_CODE_SERVER_VERSION:-4.139.1}"
NODE_SPEC="node@24"
DEBIAN_PACKAGES=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)
CHECK_ONLY=0
[[ "${1:-}" == "--check" ]] && CHECK_ONLY=1

log() { printf 'editor-setup: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
started=$(date +%s)

# --- Debian packages ------------------------------------------------------------------------------
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then missing+=("$p"); fi
done
if ((${#missing[@]})); then
  ((CHECK_ONLY)) && die "missing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    die "missing Debian packages: ${missing[*]} (install them with: sudo apt-get install ${missing[*]})"
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
CHROMIUM="$(command -v chromium || true)"
[[ -x "$CHROMIUM" ]] || die "chromium is not on PATH after installing it"

mkdir -p "$CACHE"
# This script's own npm settings: no audit/fund/update chatter, and a nodedir that points at Node
# 24's headers (set below), whatever the user's ~/.npmrc says.
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

# --- Node 24 (npm package `node`: a prebuilt binary that the registry serves) ------------------------
node_home() {
  # node@24 installs node-linux-<arch>/{bin/node,include/node} under node_modules/node/node_modules.
  local d
  for d in "$CACHE"/node24/node_modules/node/node_modules/node-linux-*; do
    [[ -x "$d/bin/node" ]] && { echo "$d"; return 0; }
  done
  return 1
}
NODE_HOME="$(node_home || true)"
if [[ -z "$NODE_HOME" ]] || [[ "$("$NODE_HOME/bin/node" --version 2>/dev/null)" != v24.* ]]; then
  ((CHECK_ONLY)) && die "Node 24 is not installed in $CACHE/node24"
  log "installing $NODE_SPEC into $CACHE/node24"
  rm -rf "$CACHE/node24"
  npm install --prefix "$CACHE/node24" --no-save --loglevel=error "$NODE_SPEC" >/dev/null
  NODE_HOME="$(node_home)" || die "npm installed $NODE_SPEC but no node binary was found in $CACHE/node24"
fi
NODE24="$NODE_HOME/bin/node"
log "node: $NODE24 ($("$NODE24" --version))"

# --- code-server ------------------------------------------------------------------------------------
CS_DIR="$CACHE/code-server"
CS_BIN="$CS_DIR/node_modules/code-server/out/node/entry.js"
# (its own config goes to the cache, not to ~/.config/code-server)
cs_version() {
  XDG_CONFIG_HOME="$CACHE/xdg/config" XDG_DATA_HOME="$CACHE/xdg/data" PATH="$NODE_HOME/bin:$PATH" \
    "$NODE24" "$CS_BIN" --version 2>/dev/null | grep -m1 -oE '^[0-9]+\.[0-9]+\.[0-9]+' || true
}
if [[ ! -f "$CS_BIN" ]] || [[ "$(cs_version)" != "$CODE_SERVER_VERSION" ]]; then
  ((CHECK_ONLY)) && die "code-server $CODE_SERVER_VERSION is not installed in $CS_DIR"
  log "installing code-server@$CODE_SERVER_VERSION into $CS_DIR (about 2 minutes, 600 MB)"
  rm -rf "$CS_DIR.partial"
  mkdir -p "$CS_DIR.partial"
  # Native modules are built against Node 24's headers (from the node@24 package: nothing is
  # downloaded); as root, npm must be allowed to run the install scripts as root.
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" npm_config_unsafe_perm=true \
    npm install --prefix "$CS_DIR.partial" --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION" >&2
  rm -rf "$CS_DIR"
  mv "$CS_DIR.partial" "$CS_DIR"
  [[ "$(cs_version)" == "$CODE_SERVER_VERSION" ]] || die "code-server does not start after the install"
fi
log "code-server: $(cs_version) ($CS_BIN)"

# --- ready.json: where everything is (read by test/editor/harness.ts) ---------------------------------
cat >"$CACHE/ready.json.tmp" <<EOF
{
  "node": "$NODE24",
  "nodeBin": "$NODE_HOME/bin",
  "codeServer": "$CS_BIN",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "chromium": "$CHROMIUM"
}
EOF
mv "$CACHE/ready.json.tmp" "$CACHE/ready.json"
log "ready in $(( $(date +%s) - started )) s: $CACHE/ready.json"
echo "$CACHE"
