# Sourced by scripts/demo and scripts/test: find or install uv, then install the locked
# dependencies. Needs only Python 3.11+ and access to the package registry.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "Sunlit needs Python 3.11 or newer (found: $("$PY" --version 2>&1))." >&2
  exit 1
fi

if command -v uv >/dev/null 2>&1; then
  UV="$(command -v uv)"
elif [ -x "$ROOT/.tools/bin/uv" ]; then
  UV="$ROOT/.tools/bin/uv"
else
  echo "==> installing uv into .tools/" >&2
  "$PY" -m venv "$ROOT/.tools"
  "$ROOT/.tools/bin/pip" install --quiet --disable-pip-version-check uv
  UV="$ROOT/.tools/bin/uv"
fi
export UV_PYTHON="${UV_PYTHON:-$PY}"
export UV_PYTHON_DOWNLOADS=never
"$UV" sync --frozen --quiet
