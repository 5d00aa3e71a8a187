#!/usr/bin/env python3
"""Train and export the extra benchmark network bench/nets/mnist_256x2.onnx (784-256-256-10).

    python3 bench/make_bench_nets.py [--mnist /work/shared/data/mnist] [--epochs 4]

Needs python3 with numpy and onnx (onnxruntime optional: used, when installed, to check the
exported file). Training and export are the functions of fixtures/make_fixtures.py, imported,
not copied: the same numpy backprop + Adam (lr 2e-3, cosine decay, batch 128), He init, and the
same Gemm(transB=1) + Relu export (float32 raw_data initializers, IR 8, opset 13, input [1,784]
= pixel/255, output [1,10] logits). Only the number of epochs differs (fewer: the net is big
enough to pass 97% quickly). Fixed seed, so re-running on the same machine gives the same file.
It does not touch anything under fixtures/.
"""

import argparse
import importlib.util
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

STEM = "mnist_256x2"
HIDDEN = (256, 256)
SEED = 3001
EPOCHS = 4


def load_fixtures_module():
    path = os.path.join(REPO, "fixtures", "make_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # defines functions only; its main() is not run
    return mod


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"),
                    help="folder with the four MNIST *-ubyte.gz files (default ../shared/data/mnist "
                         "relative to the repository root)")
    ap.add_argument("--out", default=os.path.join(HERE, "nets"), help="output folder (default bench/nets)")
    ap.add_argument("--epochs", type=int, default=EPOCHS, help=f"training epochs (default {EPOCHS})")
    args = ap.parse_args()

    import numpy as np
    import onnx

    mf = load_fixtures_module()
    # train_mlp reads the epoch count from the module global at call time.
    mf.FC_EPOCHS = args.epochs

    t0 = time.time()
    data, _ = mf.load_mnist(args.mnist)
    train_x = data["train_x"].reshape(-1, 784).astype(np.float32) / np.float32(255.0)
    train_y = data["train_y"].astype(np.int64)
    test_x = data["test_x"].reshape(-1, 784).astype(np.float32) / np.float32(255.0)
    test_y = data["test_y"].astype(np.int64)

    print(f"training {STEM} (hidden {HIDDEN}, seed {SEED}, {args.epochs} epochs)", flush=True)
    layers = mf.train_mlp(train_x, train_y, HIDDEN, SEED)
    t_train = time.time() - t0
    desc = f"784-{'-'.join(map(str, HIDDEN))}-10 ReLU MLP, Gemm(transB=1)+Relu"
    model = mf.export_gemm_mlp(layers, desc)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{STEM}.onnx")
    onnx.save(model, path)

    logits = mf.mlp_forward64(layers, test_x)
    acc = float((logits.argmax(axis=1) == test_y).mean())
    params = int(sum(np.prod(t.dims) for t in model.graph.initializer))
    m = onnx.load(path)
    assert m.ir_version == mf.IR_VERSION and [(o.domain, o.version) for o in m.opset_import] == [("", mf.OPSET)]
    print(f"{path}: {os.path.getsize(path)} bytes, {params} parameters, sha256 {mf.sha256_of(path)}")
    print(f"test accuracy (numpy float64 forward, 10k images): {acc:.4f}")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("onnxruntime not installed: skipped the independent check of the exported file")
    else:
        ort = mf.ort_run_each(mf.ort_session(path), test_x, [1, 784])
        diff = float(np.abs(ort - logits).max())
        acc_ort = float((ort.argmax(axis=1) == test_y).mean())
        print(f"onnxruntime: test accuracy {acc_ort:.4f}, max |ort - numpy| = {diff:.2e}")
        if diff > 1e-4:
            sys.exit(f"{path}: onnxruntime and numpy forward differ by {diff}")
    print(f"training {t_train:.1f} s, total {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
