# Shared by scripts/serve and scripts/test: a project-local virtualenv, installed on demand.
# Needs only Python 3.11+ (and Node/npm for the tests). Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${SWITCHBOARD_VENV:-$ROOT/.venv}"

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "switchboard: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

# stale STAMP WANT: true when the stamp file does not hold WANT (what it stands for must
# be installed or built again).
stale() {
    [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]
}

# ensure_venv EXTRA: create the venv and install the package with [EXTRA] when
# pyproject.toml changed since the last install (a stamp file remembers).
ensure_venv() {
    local extra="$1" python stamp want
    if [ ! -x "$VENV/bin/python" ]; then
        python="$(find_python)"
        echo "switchboard: creating virtualenv in $VENV" >&2
        "$python" -m venv "$VENV"
    fi
    stamp="$VENV/.switchboard-installed-$extra"
    want="$(sha256sum "$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if stale "$stamp" "$want"; then
        echo "switchboard: installing switchboard[$extra] into $VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            -e "$ROOT[$extra]"
        echo "$want" >"$stamp"
    fi
}

# ensure_debian_packages COMMAND:PACKAGE ...: install Debian packages whose command is
# missing (as root, or with password-less sudo); otherwise say what to install.
ensure_debian_packages() {
    local pair missing=() sudo=""
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo="sudo"
        else
            echo "switchboard: please install: sudo apt-get install ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "switchboard: installing Debian packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
}

# ensure_postgres: the PostgreSQL server the store, hub and end-to-end tests also run on:
# $SWITCHBOARD_TEST_POSTGRES_URL when set, else role postgres on 127.0.0.1:5432 with
# trust auth. A local Debian cluster that is installed but stopped is started.
ensure_postgres() {
    local version sudo="" _
    [ -n "${SWITCHBOARD_TEST_POSTGRES_URL:-}" ] && return 0
    pg_up() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; }
    pg_up && return 0
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        [ "$(id -u)" != 0 ] && sudo -n true 2>/dev/null && sudo="sudo"
        echo "switchboard: starting the local PostgreSQL" >&2
        for version in /etc/postgresql/*; do
            $sudo pg_ctlcluster --skip-systemctl-redirect "${version##*/}" main start || true
        done
        for _ in $(seq 1 30); do pg_up && return 0; sleep 1; done
    fi
    echo "switchboard: the tests need PostgreSQL on 127.0.0.1:5432 (role postgres, trust" \
        "auth), or a server at SWITCHBOARD_TEST_POSTGRES_URL" >&2
    return 1
}

# ensure_redis: the Redis the cluster tests run their nodes on: $SWITCHBOARD_TEST_REDIS_URL
# when set, else 127.0.0.1:6379. A local redis-server that is installed but stopped is
# started as this kind of machine starts it (nothing kept on disk).
ensure_redis() {
    [ -n "${SWITCHBOARD_TEST_REDIS_URL:-}" ] && return 0
    redis_up() { command -v redis-cli >/dev/null 2>&1 && [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = PONG ]; }
    redis_up && return 0
    if command -v redis-server >/dev/null 2>&1; then
        echo "switchboard: starting the local Redis" >&2
        mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
        redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
            --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
        for _ in $(seq 1 30); do redis_up && return 0; sleep 1; done
    fi
    echo "switchboard: the cluster tests need Redis on 127.0.0.1:6379, or a server at" \
        "SWITCHBOARD_TEST_REDIS_URL" >&2
    return 1
}

# ensure_web_ui [required]: build the web UI (web/ → src/switchboard/server/web_dist)
# when its sources changed since the last build. Needs Node.js (20.19+ or 22.12+) with
# npm; without them the server runs without the UI, unless "required" is given.
ensure_web_ui() {
    local required="${1:-}" web="$ROOT/web" dist="$ROOT/src/switchboard/server/web_dist"
    local stamp="$dist/.switchboard-build" want problem=""
    want="$(cd "$web" && find package.json package-lock.json index.html vite.config.ts \
        tsconfig.json src public -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
    stale "$stamp" "$want" || return 0
    if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
        problem="Node.js with npm is needed to build the web UI"
    elif ! node -e 'const [a, b] = process.versions.node.split(".").map(Number);
            process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1)'; then
        problem="the web UI needs Node.js 20.19+ or 22.12+ (found $(node --version))"
    fi
    if [ -n "$problem" ]; then
        echo "switchboard: $problem" >&2
        [ -z "$required" ]
        return
    fi
    echo "switchboard: building the web UI" >&2
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build) >&2 ||
        return 1
    echo "$want" >"$stamp"
}
