#!/usr/bin/env bash
# Runs a project command with the pinned toolchain, installing what a fresh machine lacks.
#
#   bash test/toolchain.sh test       # services up, build, the whole test suite
#   bash test/toolchain.sh demo       # services up, build, one function through all four providers
#   bash test/toolchain.sh build | typecheck | bench
#   bash test/toolchain.sh exec CMD…  # anything else, with Node 22 and pnpm on PATH
#
# The machine's own Node may be older than the toolchain needs (vitest 5, tsup 9 and
# changesets 3 need Node ≥ 22.18), so Node 22 comes from the npm package `node` and pnpm
# from the npm package `pnpm`, both pinned in .toolchain/package.json.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
toolchain="$root/.toolchain"
say() { printf '[toolchain] %s\n' "$*" >&2; }

ensure_system_packages() {
  # aws-lambda-ric (the real Lambda runtime client, used by the Lambda runtime tests)
  # compiles its native addon and the curl it bundles with these.
  local missing=()
  for pkg in make g++ cmake; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_toolchain() {
  local want_node want_pnpm
  want_node=$(sed -n 's/.*"node": "\([^"]*\)".*/\1/p' "$toolchain/package.json")
  want_pnpm=$(sed -n 's/.*"pnpm": "\([^"]*\)".*/\1/p' "$toolchain/package.json")
  if [ "$("$toolchain/node_modules/.bin/node" --version 2>/dev/null)" != "v$want_node" ] ||
     [ "$("$toolchain/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$want_pnpm" ]; then
    command -v npm >/dev/null || { say "npm is needed once to fetch the pinned Node $want_node"; exit 1; }
    say "installing Node $want_node and pnpm $want_pnpm into .toolchain/"
    (cd "$toolchain" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
  fi
  export PATH="$toolchain/node_modules/.bin:$PATH"
}

ensure_deps() {
  ensure_system_packages
  # A frozen lockfile: CI installs exactly what was committed.
  if [ ! -f node_modules/.modules.yaml ] || [ pnpm-lock.yaml -nt node_modules/.modules.yaml ] || [ -n "${CI:-}" ]; then
    say "pnpm install"
    pnpm install --frozen-lockfile --reporter=append-only | tail -n 3
  fi
}

# Starts the services; those this run started are stopped when it ends, however it ends.
start_services() {
  local started_here=0
  bash test/services/services.sh status >/dev/null 2>&1 || started_here=1
  bash test/services/services.sh start
  if [ "$started_here" = 1 ]; then trap 'bash test/services/services.sh stop >/dev/null 2>&1 || true' EXIT; fi
}

typecheck() {
  pnpm -r --filter './packages/*' typecheck
  # The repo-wide tests and their helpers.
  pnpm exec tsc -p test/tsconfig.json
}

build() {
  pnpm -r --filter './packages/*' build >/dev/null || { pnpm -r --filter './packages/*' build; exit 1; }
}

cmd=${1:-test}
shift || true
case "$cmd" in
  test)
    ensure_toolchain
    ensure_deps
    start_services
    build
    typecheck
    mkdir -p .services
    status=0
    pnpm exec vitest run --config test/vitest.config.ts --reporter=default --reporter=json --outputFile.json=.services/vitest-report.json "$@" || status=$?
    node test/summarise-report.mjs .services/vitest-report.json || true
    exit "$status"
    ;;
  demo)
    ensure_toolchain
    ensure_deps
    start_services >&2
    build
    node examples/demo/run.mjs "$@"
    ;;
  build) ensure_toolchain; ensure_deps; build ;;
  typecheck) ensure_toolchain; ensure_deps; typecheck ;;
  bench)
    ensure_toolchain
    ensure_deps
    start_services >&2
    build
    # Each bench records its ratios under .services/bench/ with this run's id; the table at the
    # end shows this run's numbers only (a bench that did not run is shown as such).
    STEADYFN_BENCH_RUN="$(date -u +%Y%m%dT%H%M%SZ)-$$"
    export STEADYFN_BENCH_RUN
    status=0
    pnpm exec vitest bench --config test/vitest.config.ts --run "$@" || status=$?
    node test/bench-table.mjs "$STEADYFN_BENCH_RUN"
    exit "$status"
    ;;
  exec) ensure_toolchain; "$@" ;;
  *) say "unknown command '$cmd' (test, demo, build, typecheck, bench, exec)"; exit 2 ;;
esac
