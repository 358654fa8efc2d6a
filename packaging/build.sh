#!/usr/bin/env bash
# Build the folder bundle dist/Colorize/ with PyInstaller, print its size and the time it took,
# then run the bundle's own --self-test (no display needed). Exit status: the self-test's
# (0 passed, 1 failed, 2 no model in the bundle), or PyInstaller's if the build failed.
#
#   packaging/build.sh              # uses .venv (created and set up if missing)
#   CLEAN=1 packaging/build.sh      # also drop PyInstaller's cache of analysed modules
#   VENV=/path/to/venv PYTHON=python3.12 packaging/build.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
DIST=dist
WORK=build/pyinstaller
BUNDLE="$DIST/Colorize"
EXE="$BUNDLE/colorize-app"

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import PyInstaller, colorize_app" 2>/dev/null; then
    "$VENV/bin/python" -m pip install -e '.[package]'
fi
if ! ls colorize_app/weights/*.safetensors >/dev/null 2>&1; then
    echo "note: colorize_app/weights/ holds no model; the bundle's self-test will say so (exit 2)." >&2
fi

clean_flag=()
if [ "${CLEAN:-0}" = 1 ]; then clean_flag=(--clean); fi

start=$(date +%s)
"$VENV/bin/python" -m PyInstaller --noconfirm "${clean_flag[@]}" \
    --distpath "$DIST" --workpath "$WORK" packaging/colorize.spec
elapsed=$(( $(date +%s) - start ))

echo
echo "built $BUNDLE in $((elapsed / 60)) min $((elapsed % 60)) s"
echo "size: $(du -sh "$BUNDLE" | cut -f1) ($(find "$BUNDLE" -type f | wc -l) files)"
echo
echo "\$ QT_QPA_PLATFORM=offscreen $EXE --self-test"
QT_QPA_PLATFORM=offscreen "$EXE" --self-test
