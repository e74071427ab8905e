#!/usr/bin/env bash
# Prints, whole, what every failed top-level test wrote in a `go test -v`
# log: the Makefile's filter keeps only the test's own lines, and a
# failure's evidence (a daemon's log tail, a node's stderr) is in the
# indented lines it drops.
set -euo pipefail
log=${1:?usage: show-failures.sh go-test-v.log}
awk '
/^=== RUN   [^\/]+$/ { name = $3; buf = ""; keep = 1 }
keep { buf = buf $0 "\n" }
/^--- FAIL: / && $3 == name { printf "\n##### full output of %s #####\n%s", name, buf; keep = 0 }
/^--- (PASS|SKIP): / && $3 == name { keep = 0 }
/^(FAIL|ok|PASS)([ \t]|$)/ { if (keep) printf "\n##### output of %s, which did not end #####\n%s", name, buf; keep = 0 }
' "$log"
