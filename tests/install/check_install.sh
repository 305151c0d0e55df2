#!/bin/sh
# check_install.sh BUILD_DIR CC: `make install` into a temporary prefix puts
# the program, the library, the headers, the pkg-config file and the man
# page in place, and a program built against them with pkg-config works.
set -eu
build=$1
cc=${2:-cc}
extra=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/usr" >/dev/null
fail=0
for f in bin/spamtrace lib/libspamtrace.a include/spamtrace/spamtrace.h \
    include/spamtrace/trace.h lib/pkgconfig/spamtrace.pc \
    share/man/man1/spamtrace.1 share/spamtrace/providers.txt; do
	if [ -e "$tmp/usr/$f" ]; then echo "ok    installed $f"
	else echo "FAIL  missing $f"; fail=$((fail + 1)); fi
done
"$tmp/usr/bin/spamtrace" --version >/dev/null && echo "ok    installed program runs" ||
	{ echo "FAIL  installed program"; fail=$((fail + 1)); }
if man -l "$tmp/usr/share/man/man1/spamtrace.1" >/dev/null 2>&1 ||
    ! command -v man >/dev/null; then echo "ok    man page renders"
else echo "FAIL  man page"; fail=$((fail + 1)); fi
export PKG_CONFIG_PATH="$tmp/usr/lib/pkgconfig"
# shellcheck disable=SC2046
# shellcheck disable=SC2086
if $cc $extra -std=c11 -o "$tmp/use_lib" "$here/use_lib.c" $(pkg-config --cflags spamtrace) \
    $(pkg-config --libs spamtrace) && "$tmp/use_lib"; then
	echo "ok    a program built with pkg-config works"
else
	echo "FAIL  building against the installed library"; fail=$((fail + 1))
fi
echo "$((9 - fail)) passed, $fail failed"
[ "$fail" = 0 ]
