#!/bin/sh
# Fuzz the C accelerator under AddressSanitizer.
#
# Builds h2lite._speedups with -fsanitize=address in a copy of the tree (the
# .so in the working tree stays as it is), then runs the atheris harness with
# the C backend for each role, libasan preloaded into the interpreter.
#
# Usage: fuzz/asan.sh [MINUTES] [ROLE ...]      (defaults: 3 minutes, server client)
# H2LITE_ASAN_TREE chooses the copy's location (default /tmp/h2lite-asan).
set -eu
MINUTES=${1:-3}
[ $# -gt 0 ] && shift
ROLES=${*:-server client}
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${H2LITE_ASAN_TREE:-/tmp/h2lite-asan}

rm -rf "$WORK"
mkdir -p "$WORK"
cp -r "$SRC/src" "$SRC/fuzz" "$SRC/setup.py" "$SRC/pyproject.toml" "$WORK/"
rm -f "$WORK"/src/h2lite/*.so
cd "$WORK"
CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" LDFLAGS="-fsanitize=address" \
    H2LITE_REQUIRE_EXTENSIONS=1 python setup.py -q build_ext --inplace
SO=$(ls "$WORK"/src/h2lite/_speedups*.so)
LIBASAN=$(gcc -print-file-name=libasan.so)
ldd "$SO" | grep -q libasan || { echo "asan.sh: $SO is not linked with libasan" >&2; exit 1; }
echo "asan.sh: $SO built with AddressSanitizer; preloading $LIBASAN"

for role in $ROLES; do
    mkdir -p "$WORK/corpus-$role"
    LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0 H2LITE_REQUIRE_EXTENSIONS=1 \
        python fuzz/atheris_receive.py --role "$role" --backend c --minutes "$MINUTES" \
        "$WORK/corpus-$role" "fuzz/corpus/$role"
done
