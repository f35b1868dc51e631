#!/usr/bin/env bash
# tests/cli/sigint_test.sh SCALEINV: Ctrl-C during `scaleinv train` writes a checkpoint and exits
# with 130, and the checkpoint resumes. Registered with ctest (tests/CMakeLists.txt).
set -u
exe=${1:?path to the scaleinv executable}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$exe" train mlp:2-32-32-2,bias --data spirals:n=4000 --epochs 1000000 --quiet --checkpoint "$dir/ck.json" &
pid=$!
# Wait until training has written its first checkpoint (so the handler is installed), then interrupt.
for _ in $(seq 1 600); do [[ -s $dir/ck.json ]] && break; sleep 0.1; done
[[ -s $dir/ck.json ]] || { echo "FAIL: no checkpoint appeared"; kill -9 "$pid"; exit 1; }
kill -INT "$pid"
wait "$pid"
code=$?
[[ $code -eq 130 ]] || { echo "FAIL: exit code $code after SIGINT, expected 130"; exit 1; }
epoch=$(sed -n 's/.*"training": {.*"epoch":\([0-9]*\).*/\1/p' "$dir/ck.json")
[[ -n $epoch ]] || { echo "FAIL: the checkpoint has no training state"; exit 1; }
"$exe" train mlp:2-32-32-2,bias --data spirals:n=4000 --epochs $((epoch + 1)) --quiet --resume "$dir/ck.json" -o "$dir/out.json" ||
  { echo "FAIL: resume failed"; exit 1; }
[[ -s $dir/out.json ]] || { echo "FAIL: no output after resume"; exit 1; }
echo "1 passed, 0 failed"
