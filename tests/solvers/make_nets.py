"""Generates the two small networks and input points of the solver matrix (tests/solver_matrix.rs).

They must stay small: every model written from them is read by Gurobi's size-limited licence
(2,000 columns and rows) and CPLEX Community Edition (1,000), and the matrix solves each one
about 1,000 times. Random He-normal weights with a fixed seed (numpy's PCG64), float32 in the file.

    python3 tests/solvers/make_nets.py     # rewrites dense_6-8-8-4.onnx, conv_4x4.onnx, *.npy

- dense_6-8-8-4.onnx: input [1,6] -> Gemm 8 -> Relu -> Gemm 8 -> Relu -> Gemm 4.
- conv_4x4.onnx: input [1,1,4,4] -> Conv(1->2, 3x3) -> Relu -> MaxPool(2x2, stride 2)
  -> Flatten (2) -> Gemm 6 -> Relu -> Gemm 4.
- dense_point.npy (6 values), conv_point.npy (16 values, 4x4 picture): points in [0,1].
"""
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20181)


def he(shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def gemm(name, x, n_in, n_out, inits):
    w, b = f"{name}.weight", f"{name}.bias"
    inits += [numpy_helper.from_array(he((n_out, n_in), n_in), w),
              numpy_helper.from_array((0.1 * rng.standard_normal(n_out)).astype(np.float32), b)]
    return helper.make_node("Gemm", [x, w, b], [name], name=name, transB=1)


def save(nodes, inits, in_shape, out_len, file):
    graph = helper.make_graph(
        nodes, file.split(".")[0],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, out_len])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(HERE, file))


def dense():
    inits = []
    nodes = [gemm("fc1", "input", 6, 8, inits), helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
             gemm("fc2", "relu1", 8, 8, inits), helper.make_node("Relu", ["fc2"], ["relu2"], name="relu2"),
             gemm("fc3", "relu2", 8, 4, inits)]
    nodes[-1].output[0] = "output"
    save(nodes, inits, [1, 6], 4, "dense_6-8-8-4.onnx")


def conv():
    inits = [numpy_helper.from_array(he((2, 1, 3, 3), 9), "conv1.weight"),
             numpy_helper.from_array((0.1 * rng.standard_normal(2)).astype(np.float32), "conv1.bias")]
    nodes = [helper.make_node("Conv", ["input", "conv1.weight", "conv1.bias"], ["conv1"], name="conv1",
                              kernel_shape=[3, 3]),
             helper.make_node("Relu", ["conv1"], ["relu1"], name="relu1"),
             helper.make_node("MaxPool", ["relu1"], ["pool1"], name="pool1", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Flatten", ["pool1"], ["flat"], name="flatten", axis=1)]
    nodes += [gemm("fc1", "flat", 2, 6, inits), helper.make_node("Relu", ["fc1"], ["relu2"], name="relu2"),
              gemm("fc2", "relu2", 6, 4, inits)]
    nodes[-1].output[0] = "output"
    save(nodes, inits, [1, 1, 4, 4], 4, "conv_4x4.onnx")


dense()
conv()
np.save(os.path.join(HERE, "dense_point.npy"), rng.uniform(0, 1, 6))
np.save(os.path.join(HERE, "conv_point.npy"), rng.uniform(0, 1, 16))
