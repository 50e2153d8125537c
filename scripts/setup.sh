#!/usr/bin/env bash
# Sets up a fresh Debian machine for the publisher: the Python package, and (for diagrams, layout
# checks, screenshots and browser tests) Chromium with CJK fonts and mermaid.js. Safe to re-run.
#   bash scripts/setup.sh          the publisher and its browser tools
#   bash scripts/setup.sh --test   the same plus the test tools (pytest, hypothesis, playwright, ruff)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[[ "${1:-}" == "--test" ]] && extras="[test]"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi "Noto Color Emoji"; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "installing Chromium and CJK fonts (Debian packages)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji >/dev/null
  else
    say "Chromium not found and apt-get unavailable: diagrams and layout checks will be skipped"
  fi
fi

say "installing the publisher${extras:+ with test tools}"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".${extras}"

if command -v npm >/dev/null 2>&1 && [[ ! -f .publisher-cache/npm/node_modules/mermaid/package.json ]]; then
  say "installing mermaid.js for diagrams (npm)"
  npm install --silent --no-audit --no-fund --prefix .publisher-cache/npm mermaid@11 >/dev/null || \
    say "mermaid.js could not be installed: diagrams will be shown as code"
fi
