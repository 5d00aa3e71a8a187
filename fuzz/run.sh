#!/usr/bin/env bash
# Runs each fuzz target for a fixed time, one at a time and niced, then prints per target the
# executions and the crashes found. Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]
# (default 60 s, every target). Needs cargo-fuzz (`cargo install cargo-fuzz`); see README.md.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx_raw onnx_structured images bounds_file lower vnnlib)

# libFuzzer's instrumentation needs unstable flags; the installed stable compiler takes them
# with RUSTC_BOOTSTRAP=1 (no nightly toolchain can be installed here).
export RUSTC_BOOTSTRAP=1
# Reuse the HiGHS the main build compiled (highs-sys's `discover` feature asks pkg-config);
# without one, highs-sys compiles HiGHS from source once (minutes), on one core.
highs=$(ls -d ../target/*/build/highs-sys-*/out 2>/dev/null | while read -r d; do
    [ -f "$d/lib/libhighs.a" ] && echo "$d" && break; done || true)
if [ -n "$highs" ]; then
    highs=$(cd "$highs" && pwd)
    mkdir -p target/pkgconfig
    cat > target/pkgconfig/highs.pc <<PC
Name: highs
Description: HiGHS built by the main nnmilp build
Version: 1.12.0
Cflags: -I$highs/include/highs
Libs: -L$highs/lib -lhighs -lstdc++
PC
    export PKG_CONFIG_PATH=$PWD/target/pkgconfig
fi
export CMAKE_BUILD_PARALLEL_LEVEL=1 NUM_JOBS=1 CARGO_BUILD_JOBS=1

./seed.sh
nice -n 10 cargo fuzz build --sanitizer none --release

printf '%-16s %12s %8s %s\n' target executions crashes artifacts
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    log="target/$t.log"
    nice -n 10 cargo fuzz run --sanitizer none --release "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || true
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    crashes=$(ls "artifacts/$t" | grep -c -E '^(crash|oom|timeout|leak)-' || true)
    printf '%-16s %12s %8s %s\n' "$t" "${execs:-?}" "$crashes" "artifacts/$t"
done
