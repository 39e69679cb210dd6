#!/bin/sh
test_description=x
. "$(dirname "$0")/lib.sh"
test_done
