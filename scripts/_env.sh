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
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
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
