#!/usr/bin/env bash
# Build Cavern.app on macOS (run on the architecture you ship: arm64 or x86_64) and zip it:
#   packaging/dist/Cavern.app
#   packaging/dist/Cavern-<version>-macos-<arch>.zip
# Usage: packaging/build_macos.sh [--smoke]
# Optional signing and notarization (see packaging/README.md):
#   CAVERN_CODESIGN_IDENTITY="Developer ID Application: Your Name (TEAMID)"
#   CAVERN_ENTITLEMENTS=path/to/entitlements.plist   (optional)
#   CAVERN_NOTARY_PROFILE=<keychain profile made with `xcrun notarytool store-credentials`>
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$HERE")"
PY="${PYTHON:-python3}"
cd "$ROOT"

"$PY" -m PyInstaller --version >/dev/null 2>&1 || {
    echo "PyInstaller is missing: $PY -m pip install pyinstaller" >&2; exit 1; }
# The spec passes CAVERN_CODESIGN_IDENTITY to PyInstaller, which signs every binary it collects.
"$PY" -m PyInstaller --noconfirm --distpath "$HERE/dist" --workpath "$HERE/build" "$HERE/cavern.spec"

APP="$HERE/dist/Cavern.app"
VERSION="$("$PY" -c 'import sys; sys.path.insert(0, sys.argv[1]); import spec_config as c; print(c.read_version(c.project_root(sys.argv[1])))' "$HERE")"
ZIP="$HERE/dist/Cavern-${VERSION}-macos-$(uname -m).zip"

if [[ -n "${CAVERN_CODESIGN_IDENTITY:-}" ]]; then
    # Seal the bundle itself with the hardened runtime that notarization requires.
    ENT=()  # expanded as ${ENT[@]+...}: macOS bash 3.2 treats an empty array as unset
    [[ -n "${CAVERN_ENTITLEMENTS:-}" ]] && ENT=(--entitlements "$CAVERN_ENTITLEMENTS")
    codesign --force --deep --options runtime --timestamp ${ENT[@]+"${ENT[@]}"} \
        --sign "$CAVERN_CODESIGN_IDENTITY" "$APP"
    codesign --verify --deep --strict --verbose=2 "$APP"
fi

rm -f "$ZIP"
ditto -c -k --sequesterRsrc --keepParent "$APP" "$ZIP"

if [[ -n "${CAVERN_NOTARY_PROFILE:-}" ]]; then
    xcrun notarytool submit "$ZIP" --keychain-profile "$CAVERN_NOTARY_PROFILE" --wait
    xcrun stapler staple "$APP"
    rm -f "$ZIP"
    ditto -c -k --sequesterRsrc --keepParent "$APP" "$ZIP"   # re-zip with the ticket stapled
    spctl --assess --type execute --verbose "$APP"
fi

echo "app:  $(du -sh "$APP" | cut -f1)  $APP"
echo "zip:  $(du -sh "$ZIP" | cut -f1)  $ZIP"
if [[ "${1:-}" == "--smoke" ]]; then
    "$PY" "$HERE/smoke_test.py" "$APP"
fi
