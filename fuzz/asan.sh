#!/bin/sh
# Fuzz the C accelerator under AddressSanitizer (see fuzz/README.md).
#
# Builds h2lite._speedups with -fsanitize=address in a copy of the tree (the
# .so in the working tree stays as it is), then for each role runs the atheris
# harness and the hypothesis receive fuzzer on the C backend, with libasan
# preloaded into the interpreter.
#
# Usage: fuzz/asan.sh [MINUTES] [ROLE ...]      (defaults: 3 minutes, server client)
#   H2LITE_ASAN_TREE    where the copy goes (default /tmp/h2lite-asan)
#   H2LITE_FUZZ_CORPUS  a corpus grown by an ordinary atheris run (DIR/server, DIR/client), replayed first
#   H2LITE_ASAN_EXAMPLES  hypothesis inputs per role (default 500)
set -eu
MINUTES=${1:-3}
[ $# -gt 0 ] && shift
ROLES=${*:-server client}
SRC=$(cd "$(dirname "$0")/.." && pwd)
WORK=${H2LITE_ASAN_TREE:-/tmp/h2lite-asan}
PYTHON=$(python -c 'import sys; print(sys.executable)')   # the interpreter itself, not a wrapper script

rm -rf "$WORK"
mkdir -p "$WORK"
cp -r "$SRC/src" "$SRC/fuzz" "$SRC/setup.py" "$SRC/pyproject.toml" "$WORK/"
rm -f "$WORK"/src/h2lite/*.so
cd "$WORK"
CFLAGS="-fsanitize=address -fno-omit-frame-pointer -g -O1" LDFLAGS="-fsanitize=address" \
    H2LITE_REQUIRE_EXTENSIONS=1 "$PYTHON" setup.py -q build_ext --inplace
SO=$(ls "$WORK"/src/h2lite/_speedups*.so)
LIBASAN=$(gcc -print-file-name=libasan.so)
ldd "$SO" | grep -q libasan || { echo "asan.sh: $SO is not linked with libasan" >&2; exit 1; }
echo "asan.sh: $SO built with AddressSanitizer; preloading $LIBASAN"

for role in $ROLES; do
    mkdir -p "$WORK/corpus-$role"
    extra=""
    if [ -n "${H2LITE_FUZZ_CORPUS:-}" ] && [ -d "$H2LITE_FUZZ_CORPUS/$role" ]; then
        extra="$H2LITE_FUZZ_CORPUS/$role"
    fi
    echo "asan.sh: atheris, role $role, $MINUTES minutes"
    # shellcheck disable=SC2086  # $extra is one directory or nothing
    LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0 H2LITE_REQUIRE_EXTENSIONS=1 PYTHONPATH="$WORK/src" \
        "$PYTHON" fuzz/atheris_receive.py --role "$role" --backend c --minutes "$MINUTES" \
        -artifact_prefix="$WORK/$role-" "$WORK/corpus-$role" "fuzz/corpus/$role" $extra
    echo "asan.sh: hypothesis receive fuzzer, role $role"
    LD_PRELOAD="$LIBASAN" ASAN_OPTIONS=detect_leaks=0 H2LITE_REQUIRE_EXTENSIONS=1 PYTHONPATH="$WORK/src" \
        "$PYTHON" fuzz/fuzz_receive.py "${H2LITE_ASAN_EXAMPLES:-500}" "$role"
done
