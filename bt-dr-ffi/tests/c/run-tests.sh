#!/bin/sh
# The C test suite of bt-dr, run by `make test-c` after the library and the install prefixes
# are built:
#  1. every test program is compiled with cc against the header, linked dynamically (shared
#     prefix) and statically (static prefix) through pkg-config;
#  2. parity: every core operation has its bt_dr_<name> (library and header);
#  3. both builds run (the client, DR and Atlas tests against a fresh simulator each; the Atlas
#     test against a simulated cluster with two traffic nodes);
#  4. each test runs once more under valgrind (no leak, no error; suppressions justified in
#     valgrind.supp);
#  5. the README quickstart is extracted, compiled with the README's own cc lines, and run.
#
# Environment: SIM_BIN, FFI_DIR (bt-dr-ffi), FFI_OUT (target/bt-dr-c), CARGO_TARGET_DIR, CC.
set -eu

: "${SIM_BIN:?}" "${FFI_DIR:?}" "${FFI_OUT:?}" "${CARGO_TARGET_DIR:?}"
CC=${CC:-cc}
CFLAGS="-std=c11 -Wall -Wextra -Werror -pedantic -g"
TESTS_DIR="$FFI_DIR/tests/c"
BIN="$FFI_OUT/bin"
SHARED="$FFI_OUT/shared"
STATIC="$FFI_OUT/static"
export BT_DR_FIXTURES="$FFI_DIR/../bt-dr-core/tests/fixtures/p12"
VALGRIND="valgrind --error-exitcode=1 --leak-check=full --num-callers=40 --suppressions=$TESTS_DIR/valgrind.supp"

command -v pkg-config >/dev/null || { echo "c: pkg-config is required" >&2; exit 1; }
mkdir -p "$BIN"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/bt-dr-c-tests.XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM

step() { printf '\n== c: %s\n' "$*"; }

pc_shared() { PKG_CONFIG_PATH="$SHARED/lib/pkgconfig" pkg-config "$@" bt_dr; }
pc_static() { PKG_CONFIG_PATH="$STATIC/lib/pkgconfig" pkg-config --static "$@" bt_dr; }

step "compile (shared and static)"
TESTS="test_foundation test_client test_dr test_atlas"
for t in $TESTS; do
  # shellcheck disable=SC2046
  $CC $CFLAGS "$TESTS_DIR/$t.c" -o "$BIN/$t-shared" \
    $(pc_shared --cflags --libs) -Wl,-rpath,"$(pc_shared --variable=libdir)" -lpthread
  # shellcheck disable=SC2046
  $CC $CFLAGS "$TESTS_DIR/$t.c" -o "$BIN/$t-static" $(pc_static --cflags --libs) -lpthread
  if ldd "$BIN/$t-static" | grep -q libbt_dr; then
    echo "c: $t-static is linked to libbt_dr.so" >&2
    exit 1
  fi
  echo "  $t: shared + static"
done
# shellcheck disable=SC2046
$CC $CFLAGS "$TESTS_DIR/test_parity.c" -o "$BIN/test_parity" $(pc_shared --cflags) -ldl

step "parity with bt_dr_core::OPERATIONS"
BT_DR_LIB="$SHARED/lib/libbt_dr.so" BT_DR_HEADER="$SHARED/include/bt_dr.h" "$BIN/test_parity"

run() { # name build [valgrind]
  t=$1
  build=$2
  shift 2
  d="$scratch/$t-$build"
  mkdir -p "$d"
  case $t in
    # BT_DR_TEST_PANIC arms the library's hidden panic hook (bt_dr_test_hook_panic).
    test_foundation) BT_DR_TMP="$d" BT_DR_TEST_PANIC=1 "$@" "$BIN/$t-$build" ;;
    test_atlas)
      BT_DR_SIM_FLAGS="--traffic-node tn-eu.example.com --traffic-node tn-us.example.com" \
        sh "$TESTS_DIR/with-sim.sh" "$SIM_BIN" "$@" "$BIN/$t-$build"
      ;;
    *) sh "$TESTS_DIR/with-sim.sh" "$SIM_BIN" "$@" "$BIN/$t-$build" ;;
  esac
}

for build in shared static; do
  step "run ($build)"
  for t in $TESTS; do run "$t" "$build"; done
done

step "valgrind"
for t in $TESTS; do
  # shellcheck disable=SC2086
  run "$t" shared $VALGRIND -q
done

step "README quickstart"
q="$scratch/quickstart"
mkdir -p "$q"
ln -s "$CARGO_TARGET_DIR" "$q/target"
awk '/^```c$/{on=1; next} /^```$/{if (on) exit} on' "$FFI_DIR/README.md" >"$q/quickstart.c"
awk '/^```sh$/{on=1; next} /^```$/{on=0} on && /^(export PKG_CONFIG_PATH=|cc quickstart\.c)/' \
  "$FFI_DIR/README.md" >"$q/build.sh"
test -s "$q/quickstart.c" && grep -q '^cc quickstart.c' "$q/build.sh"
(cd "$q" && CC="$CC" sh -eux build.sh)
for exe in quickstart quickstart-static; do
  out=$(sh "$TESTS_DIR/with-sim.sh" "$SIM_BIN" sh -c '
    cd "$1" &&
    BT_DR_URL=$BT_DR_SIM_PRIMARY_URL BT_DR_CLIENT_ID=$BT_DR_SIM_CLIENT_ID \
    BT_DR_CLIENT_SECRET=$BT_DR_SIM_CLIENT_SECRET BT_DR_CA_FILE=$BT_DR_SIM_CA_PEM_PATH "./$2"' \
    sh "$q" "$exe")
  echo "$out" | head -c 300
  echo
  echo "$out" | grep -q '^healthy=1 primary=1$'
  echo "$out" | grep -q '"size":1048576'
  echo "  $exe: ok"
done

step "all C tests passed"
