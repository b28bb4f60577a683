#!/bin/sh
# timed-driver.sh DRIVER ARGS...: runs automake's TAP driver and writes how long the
# test took, in seconds, beside its .trs (X.trs -> X.dur), for suite.sh's table.
trs=
prev=
for a in "$@"; do
	[ "$prev" = "--trs-file" ] && trs=$a
	prev=$a
done
start=$(date +%s.%N)
"$@"
status=$?
end=$(date +%s.%N)
[ -n "$trs" ] && awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }' >"${trs%.trs}.dur"
exit $status
