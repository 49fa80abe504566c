#!/usr/bin/env bash
# Build the standalone Linux Cavern and pack it:
#   packaging/dist/Cavern/                               the app folder (run ./Cavern)
#   packaging/dist/Cavern-<version>-linux-<arch>.tar.gz  app folder + cavern.desktop + cavern.png
# Usage (from anywhere): packaging/build_linux.sh [--smoke]   (PYTHON=... to pick the interpreter)
# Build on the oldest glibc you support: the bundle runs on that glibc and newer only.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PY="${PYTHON:-python3}"
cd "$ROOT"

"$PY" -m PyInstaller --version >/dev/null 2>&1 || {
    echo "PyInstaller is missing: $PY -m pip install pyinstaller" >&2; exit 1; }
"$PY" -m PyInstaller --noconfirm --distpath "$HERE/dist" --workpath "$HERE/build" "$HERE/cavern.spec"

VERSION="$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import spec_config as c; print(c.read_version(c.project_root(sys.argv[1])))' "$HERE")"
NAME="Cavern-${VERSION}-linux-$(uname -m)"
STAGE="$HERE/build/$NAME"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp -a "$HERE/dist/Cavern/." "$STAGE/"
cp "$HERE/cavern.desktop" "$STAGE/cavern.desktop"
# Rendered from the SVG by the spec into its work folder (<workpath>/<spec name>/icons).
cp "$HERE/build/cavern/icons/cavern.png" "$STAGE/cavern.png"
tar -C "$HERE/build" -czf "$HERE/dist/$NAME.tar.gz" "$NAME"
rm -rf "$STAGE"

echo "app folder: $(du -sh "$HERE/dist/Cavern" | cut -f1)  $HERE/dist/Cavern"
echo "tarball:    $(du -sh "$HERE/dist/$NAME.tar.gz" | cut -f1)  $HERE/dist/$NAME.tar.gz"
if [[ "${1:-}" == "--smoke" ]]; then
    "$PY" "$HERE/smoke_test.py" "$HERE/dist/$NAME.tar.gz"
fi
