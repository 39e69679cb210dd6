#!/bin/sh
test_description='configure: --disable-debug means no debug flags, --enable-debug adds them'
. "$(dirname "$0")/lib.sh"

# The flags one configure run put in its Makefile.
configured() {
	rm -rf conf && mkdir conf && (
		cd conf && env -u CFLAGS "$SRC_DIR/configure" -q "$@" >log 2>&1
	) && sed -n -e 's/^WARN_CFLAGS = /warn: /p' -e 's/^CFLAGS = /cflags: /p' \
		conf/Makefile >flags
}

test_expect_success 'configure is there (autoreconf ran)' '
	test -x "$SRC_DIR/configure"
'

test_expect_success '--disable-debug keeps warnings as warnings and optimises' '
	configured --disable-debug &&
	test_grep "^warn: " flags &&
	! grep -e "-Werror" flags &&
	! grep -e "-O0" flags
'

test_expect_success '--enable-debug makes warnings errors and drops optimisation' '
	configured --enable-debug &&
	test_grep "^warn: .*-Werror" flags &&
	test_grep "^cflags: .*-O0" flags
'

test_done
