#!/usr/bin/env bash
# Seed corpora from the repository's fixtures (kept out of git: fuzz/seeds/ is regenerated).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p seeds/onnx_raw seeds/onnx_structured seeds/lower seeds/images seeds/bounds_file seeds/vnnlib
# Small ONNX files only (the MNIST nets are hundreds of KB; libFuzzer prefers small inputs).
for f in ../fixtures/tiny_2-3-2.onnx ../fixtures/mnist_conv_tiny.onnx ../tests/onnx_ops/*.onnx; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 20000 ] && cp "$f" "seeds/onnx_raw/$(basename "$f")"
done
# Structure-aware targets read choices: a few fixed byte strings pick each seed model.
for i in 0 1 2 3; do printf "\\x$(printf %02x $((i * 16)))\\x00\\x00" > "seeds/onnx_structured/s$i"; done
cp seeds/onnx_structured/* seeds/lower/
# Images: the first byte picks the reader (0 PNG, 1 npy, 2 IDX).
for f in ../fixtures/images/*.png; do
    [ -f "$f" ] && { printf '\x00'; cat "$f"; } > "seeds/images/$(basename "$f")"
done
python3 - <<'PY'
import struct, gzip
hdr = b"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
hdr += b" " * ((64 - (10 + len(hdr) + 1) % 64) % 64) + b"\n"
npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + struct.pack("<6f", *range(6))
open("seeds/images/a.npy", "wb").write(b"\x01" + npy)
idx = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
open("seeds/images/a.idx", "wb").write(b"\x02" + idx)
open("seeds/images/a.idx.gz", "wb").write(b"\x02" + gzip.compress(idx, mtime=0))
PY
# Bounds files: one the real tool wrote would need the binary; a hand-written minimal one.
cat > seeds/bounds_file/b.json <<'JSON'
{"format":"nnmilp-bounds/1","tool":"nnmilp","network":"net.onnx","sha256":"x","method":"interval",
 "input_lo":[0,0],"input_hi":[1,1],"relu_unstable":0,"report":{"stages":[]},
 "layers":[{"index":0,"name":"x","lo":[0,0],"hi":[1,1]},{"index":1,"name":"h","lo":[-9,-9,-9],"hi":[9,9,9]},
 {"index":2,"name":"y","lo":[0,0,0],"hi":["inf",9,9]}]}
JSON
# Properties: the VNN-COMP fixtures (the small ones; shared/ sits next to the repository, as
# tests/common finds it) and the property texts in tests/vnnlib.rs and tests/verify.rs.
shared=../../shared
[ -d "$shared" ] || shared=/work/shared
find "$shared/fixtures/vnncomp" -name '*.vnnlib' -size -20k 2>/dev/null | while read -r f; do
    cp "$f" "seeds/vnnlib/$(basename "$(dirname "$(dirname "$f")")")_$(basename "$f")"
done
python3 - <<'PY2'
import re
head = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n"
n = 0
for src in ["../tests/vnnlib.rs", "../tests/verify.rs"]:
    text = open(src).read()
    for lit in re.findall(r'"((?:[^"\\]|\\.)*)"', text, re.S):
        body = re.sub(r"\\\n\s*", "", lit).replace("\\n", "\n").replace('\\"', '"')
        if "(assert" in body or "(declare-const" in body:
            if "(declare-const" not in body:
                body = head + body
            n += 1
            open(f"seeds/vnnlib/test{n:03}.vnnlib", "w").write(body)
PY2
cat > seeds/vnnlib/tiny.vnnlib <<'VNN'
(declare-const X_0 Real)
(declare-const X_1 Real)
(declare-const Y_0 Real)
(declare-const Y_1 Real)
(declare-const Y_2 Real)
(assert (and (>= X_0 0.0) (<= X_0 1.0) (>= X_1 -0.5) (<= X_1 0.5)))
(assert (or (and (>= Y_0 Y_1) (>= Y_0 Y_2)) (<= (+ Y_1 (* 2 Y_2)) -1e-3)))
VNN
