#!/usr/bin/env python3
"""Train the five MNIST networks of Fischetti & Jo's study and export them as ONNX (issue 13).

    nice -n 10 python3 study/train.py [--mnist ../shared/data/mnist] [--out study/nets]

Shapes (hidden ReLU layers; 784 inputs = pixel/255, 10 linear outputs), as independent
reproductions of Fischetti & Jo, Constraints 23 (2018), give them:

    DNN1 (8,8,8)   DNN2 (8,8,8,8,8)   DNN3 (20,10,8,8)   DNN4 (20,10,8,8,8)   DNN5 (20,20,10,10,10)

Training and export are the functions of fixtures/make_fixtures.py, imported, not copied: numpy
backprop, Adam (lr 2e-3, cosine decay, batch 128, 12 epochs), He init, one fixed seed per net;
Gemm(transB=1) + Relu, float32 raw_data initializers, IR 8, opset 13. So the same machine and
numpy give the same files.

Writes `DNNk.onnx` and `nets.json` into --out: per net the hidden widths, seed, parameter count,
SHA-256, test accuracy (numpy float64 forward over the 10,000 test images, and onnxruntime's) and
onnxruntime's logits of the first `REFERENCE_IMAGES` test images, which `tests/study.rs` compares
with nnmilp's own forward pass. Also `nets.md`, the same as a table. Needs numpy, onnx and
onnxruntime.
"""

import argparse
import importlib.util
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# (name, hidden widths, seed)
NETS = [
    ("DNN1", (8, 8, 8), 1301),
    ("DNN2", (8, 8, 8, 8, 8), 1302),
    ("DNN3", (20, 10, 8, 8), 1303),
    ("DNN4", (20, 10, 8, 8, 8), 1304),
    ("DNN5", (20, 20, 10, 10, 10), 1305),
]
REFERENCE_IMAGES = 20
# float32 runtimes differ by summation order only; a larger difference means a broken export.
ORT_TOLERANCE = 1e-4


def load_fixtures_module():
    path = os.path.join(REPO, "fixtures", "make_fixtures.py")
    spec = importlib.util.spec_from_file_location("make_fixtures", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # defines functions only; its main() is not run
    return mod


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mnist", default=os.path.join(REPO, "..", "shared", "data", "mnist"),
                    help="folder with the four MNIST *-ubyte.gz files (default ../shared/data/mnist)")
    ap.add_argument("--out", default=os.path.join(HERE, "nets"), help="output folder (default study/nets)")
    ap.add_argument("--only", nargs="*", help="train only these nets (e.g. DNN1)")
    args = ap.parse_args()
    if not os.path.isdir(args.mnist) and os.path.isdir("/work/shared/data/mnist"):
        args.mnist = "/work/shared/data/mnist"

    import numpy as np
    import onnx

    mf = load_fixtures_module()
    data, mnist_hashes = mf.load_mnist(args.mnist)
    train_x = data["train_x"].reshape(-1, 784).astype(np.float32) / np.float32(255.0)
    train_y = data["train_y"].astype(np.int64)
    test_x = data["test_x"].reshape(-1, 784).astype(np.float32) / np.float32(255.0)
    test_y = data["test_y"].astype(np.int64)

    os.makedirs(args.out, exist_ok=True)
    index_path = os.path.join(args.out, "nets.json")
    index = {"nets": {}}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index.update({
        "producer": "study/train.py",
        "mnist": mnist_hashes,
        "epochs": mf.FC_EPOCHS, "batch": mf.FC_BATCH, "lr": mf.FC_LR,
        "input": "[1,784] = pixel/255 (row-major 28x28)", "output": "[1,10] logits",
        "reference_images": f"t10k-images-idx3-ubyte.gz:0..{REFERENCE_IMAGES - 1}",
        "onnxruntime_version": __import__("onnxruntime").__version__,
        "numpy_version": np.__version__,
    })
    for name, hidden, seed in NETS:
        if args.only and name not in args.only:
            continue
        t0 = time.time()
        print(f"training {name} (hidden {hidden}, seed {seed})", flush=True)
        layers = mf.train_mlp(train_x, train_y, hidden, seed)
        desc = f"{name} of Fischetti & Jo (2018): 784-{'-'.join(map(str, hidden))}-10 ReLU MLP, Gemm(transB=1)+Relu"
        path = os.path.join(args.out, f"{name}.onnx")
        onnx.save(mf.export_gemm_mlp(layers, desc), path + ".tmp")
        os.replace(path + ".tmp", path)
        logits = mf.mlp_forward64(layers, test_x)
        acc = float((logits.argmax(axis=1) == test_y).mean())
        ort = mf.ort_run_each(mf.ort_session(path), test_x, [1, 784])
        diff = float(np.abs(ort - logits).max())
        acc_ort = float((ort.argmax(axis=1) == test_y).mean())
        if diff > ORT_TOLERANCE:
            sys.exit(f"{path}: onnxruntime and the numpy forward pass differ by {diff}")
        params = int(sum(w.size + b.size for w, b in layers))
        index["nets"][name] = {
            "file": f"{name}.onnx",
            "hidden": list(hidden),
            "relus": int(sum(hidden)),
            "seed": seed,
            "parameters": params,
            "sha256": mf.sha256_of(path),
            "test_accuracy_numpy": acc,
            "test_accuracy_onnxruntime": acc_ort,
            "max_abs_diff_ort_numpy": diff,
            "train_seconds": round(time.time() - t0, 1),
            "reference_logits": [[float(v) for v in ort[i]] for i in range(REFERENCE_IMAGES)],
            "reference_labels": [int(v) for v in test_y[:REFERENCE_IMAGES]],
        }
        print(f"{path}: accuracy {acc:.4f} (onnxruntime {acc_ort:.4f}), max |ort - numpy| {diff:.1e}", flush=True)
        write_atomic(index_path, json.dumps(index, indent=1, sort_keys=True) + "\n")

    rows = ["| net | hidden layers | ReLUs | parameters | seed | test accuracy | SHA-256 (first 16) |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for name, _, _ in NETS:
        n = index["nets"].get(name)
        if n:
            rows.append(f"| {name} | ({','.join(map(str, n['hidden']))}) | {n['relus']} | {n['parameters']} | "
                        f"{n['seed']} | {100 * n['test_accuracy_onnxruntime']:.2f}% | `{n['sha256'][:16]}` |")
    write_atomic(os.path.join(args.out, "nets.md"),
                 "# The study's networks (written by study/train.py)\n\n"
                 "Test accuracy: onnxruntime on the 10,000 MNIST test images.\n\n" + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
