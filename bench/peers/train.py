#!/usr/bin/env python3
"""Train paper-shaped MNIST nets the way users of the peer tools do, for bench/peers/run.py.

    python3 bench/peers/train.py --mnist /work/shared/data/mnist --out bench/peers/nets [--shapes 8,8,8 ...]

scikit-learn's MLPClassifier (ReLU, adam, fixed seed, 20 epochs) on the 60,000 training images
scaled to [0, 1], exported as ONNX Gemm(transB=1) + Relu with **float64** initializers (what a
hand-written export of `coefs_` gives; scikit-learn keeps float64 weights, including the tiny
ones it leaves on always-0 pixels). Every peer reads the ONNX file (gurobi-machinelearning,
OMLT and PySCIPOpt-ML all take ONNX Gemm + Relu nets). The float32 numpy nets of the same
shapes are nnmilp's own fixtures (`fixtures/make_fixtures.py`).

Writes NAME.onnx and NAME.json (shape, test accuracy, seconds, weights below 1e-9) per shape.
"""

import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(folder, split):
    prefix = "train" if split == "train" else "t10k"
    x = read_idx(os.path.join(folder, f"{prefix}-images-idx3-ubyte.gz")).reshape(-1, 784) / 255.0
    y = read_idx(os.path.join(folder, f"{prefix}-labels-idx1-ubyte.gz")).astype(np.int64)
    return x, y


def export_onnx(coefs, intercepts, path, dtype=np.float64):
    """Gemm(transB=1) + Relu per layer, the last layer linear; weights stored [out, in]."""
    elem = TensorProto.DOUBLE if dtype == np.float64 else TensorProto.FLOAT
    nodes, inits = [], []
    cur = "x"
    for k, (w, b) in enumerate(zip(coefs, intercepts)):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(w.T.astype(dtype)), f"W{k}"))
        inits.append(numpy_helper.from_array(b.astype(dtype), f"B{k}"))
        last = k == len(coefs) - 1
        out = "y" if last else f"g{k}"
        nodes.append(helper.make_node("Gemm", [cur, f"W{k}", f"B{k}"], [out], name=f"gemm{k}", transB=1))
        cur = out
        if not last:
            nodes.append(helper.make_node("Relu", [cur], [f"r{k}"], name=f"relu{k}"))
            cur = f"r{k}"
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("x", elem, [1, coefs[0].shape[0]])],
        [helper.make_tensor_value_info("y", elem, [1, coefs[-1].shape[1]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mnist", default="/work/shared/data/mnist")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "nets"))
    ap.add_argument("--shapes", nargs="*", default=["8,8,8", "8,8,8,8,8", "20,10,8,8", "20,20,20", "256,256"])
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args()
    from sklearn.neural_network import MLPClassifier

    os.makedirs(args.out, exist_ok=True)
    xtr, ytr = load_mnist(args.mnist, "train")
    xte, yte = load_mnist(args.mnist, "test")
    for shape in args.shapes:
        hidden = tuple(int(v) for v in shape.split(","))
        name = "skl_" + "-".join(map(str, hidden))
        t0 = time.time()
        clf = MLPClassifier(hidden_layer_sizes=hidden, max_iter=args.epochs, random_state=0, tol=0.0)
        clf.fit(xtr, ytr)
        secs = time.time() - t0
        acc = float((clf.predict(xte) == yte).mean())
        path = os.path.join(args.out, name + ".onnx")
        export_onnx(clf.coefs_, clf.intercepts_, path)
        # The ONNX file computes what scikit-learn computes (its logits, before softmax).
        import onnxruntime as ort

        sess = ort.InferenceSession(path)
        pred = [int(sess.run(None, {"x": xte[i : i + 1]})[0].argmax()) for i in range(100)]
        assert (np.array(pred) == clf.predict(xte[:100])).all(), name
        tiny = sum(int(((np.abs(w) < 1e-9) & (w != 0)).sum()) for w in clf.coefs_)
        info = {"hidden": list(hidden), "test_accuracy": acc, "train_seconds": secs, "weights_below_1e-9": tiny}
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(info, f, indent=1)
        print(name, info, flush=True)


if __name__ == "__main__":
    main()
