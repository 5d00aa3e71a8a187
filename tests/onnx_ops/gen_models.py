#!/usr/bin/env python3
"""Writes the small ONNX models that exercise every operator and attribute combination the
nnmilp ONNX front end supports (tests/onnx_ops/*.onnx), and a few broken ones for the error
tests (tests/onnx_ops/bad/*.onnx).

tests/onnx_frontend.rs compares nnmilp's translation of each good model with tract on random
inputs. Weights come from fixed seeds, so rerunning this script rewrites identical files:

    python3 tests/onnx_ops/gen_models.py      # needs numpy and onnx
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def const(name, array, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(array, dtype=dtype), name=name)


def save(path, nodes, in_shape, inits, opset=13, check=True, inputs=None, output_shape=True):
    """One model: input `x` of `in_shape`, output `y` (the last node's output must be `y`)."""
    graph = helper.make_graph(
        nodes,
        path.stem,
        inputs or [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="nnmilp gen_models.py"
    )
    model.ir_version = 7
    if check:
        # Fills in the output's shape, checking every node's types and shapes on the way.
        model = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        onnx.checker.check_model(model)
    if not output_shape:
        model.graph.output[0].type.tensor_type.ClearField("shape")
        del model.graph.value_info[:]
    path.parent.mkdir(exist_ok=True)
    onnx.save(model, str(path))


class Gen:
    """Random weights with a fixed seed per model."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def w(self, *shape):
        return self.rng.standard_normal(shape).astype(np.float32)

    def pos(self, *shape):
        return self.rng.uniform(0.5, 1.5, shape).astype(np.float32)


def N(op, inputs, outputs, name=None, **attrs):
    return helper.make_node(op, inputs, outputs, name=name or outputs[0], **attrs)


def good(name, seed, build, opset=13, output_shape=True):
    g = Gen(seed)
    nodes, in_shape, inits = build(g)
    save(HERE / f"{name}.onnx", nodes, in_shape, inits, opset, output_shape=output_shape)


def models():
    good("gemm_transb_alpha_beta", 1, lambda g: (
        [N("Gemm", ["x", "W", "C"], ["y"], transB=1, alpha=0.5, beta=2.0)],
        [1, 6], [const("W", g.w(4, 6)), const("C", g.w(4))]))
    good("gemm_transa_row_bias", 2, lambda g: (
        [N("Gemm", ["x", "B", "C"], ["y"], transA=1)],
        [5, 1], [const("B", g.w(5, 3)), const("C", g.w(1, 3))]))
    good("gemm_constant_a_scalar_c", 3, lambda g: (
        [N("Gemm", ["A", "x", "C"], ["y"], transB=1, beta=0.3)],
        [2, 4], [const("A", g.w(3, 4)), const("C", g.w())]))
    good("gemm_no_c", 4, lambda g: (
        [N("Gemm", ["x", "W"], ["y"], alpha=-1.5)],
        [1, 3], [const("W", g.w(3, 2))]))
    good("matmul_right_add", 5, lambda g: (
        [N("MatMul", ["x", "W"], ["m"]), N("Add", ["m", "b"], ["a"]), N("Relu", ["a"], ["y"])],
        [1, 5], [const("W", g.w(5, 3)), const("b", g.w(3))]))
    good("matmul_left", 6, lambda g: (
        [N("MatMul", ["W", "x"], ["m"]), N("Relu", ["m"], ["y"])],
        [5, 2], [const("W", g.w(3, 5))]))
    good("matmul_batched", 7, lambda g: (
        [N("MatMul", ["x", "W"], ["m"]), N("MatMul", ["V", "m"], ["y"])],
        [1, 2, 3, 4], [const("W", g.w(4, 5)), const("V", g.w(2, 6, 3))]))
    good("matmul_vectors", 8, lambda g: (
        [N("MatMul", ["x", "W"], ["m"]), N("MatMul", ["V", "m"], ["y"])],
        [4], [const("W", g.w(4, 3)), const("V", g.w(2, 3))]))
    good("conv_pads_strides_dilations", 9, lambda g: (
        [N("Conv", ["x", "W", "B"], ["c"], pads=[1, 0, 2, 1], strides=[2, 1], dilations=[1, 2]),
         N("Relu", ["c"], ["y"])],
        [1, 2, 7, 8], [const("W", g.w(4, 2, 3, 3)), const("B", g.w(4))]))
    good("conv_groups_same_upper", 10, lambda g: (
        [N("Conv", ["x", "W"], ["y"], group=2, auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3])],
        [1, 4, 6, 6], [const("W", g.w(6, 2, 3, 3))]))
    good("conv_depthwise_same_lower", 11, lambda g: (
        [N("Conv", ["x", "W", "B"], ["y"], group=3, auto_pad="SAME_LOWER")],
        [1, 3, 5, 5], [const("W", g.w(3, 1, 2, 2)), const("B", g.w(3))]))
    good("conv_1d_valid", 12, lambda g: (
        [N("Conv", ["x", "W"], ["y"], auto_pad="VALID", strides=[2])],
        [1, 2, 9], [const("W", g.w(3, 2, 3))]))
    good("maxpool_pads_ceil", 13, lambda g: (
        [N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)],
        [1, 2, 8, 8], []))
    good("maxpool_dilations", 14, lambda g: (
        [N("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 1], strides=[1, 2])],
        [1, 2, 6, 7], []))
    good("maxpool_same_upper", 15, lambda g: (
        [N("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")],
        [1, 1, 6, 7], []))
    good("avgpool_include_pad_ceil", 16, lambda g: (
        [N("AveragePool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
           count_include_pad=1, ceil_mode=1)],
        [1, 2, 6, 6], []))
    good("pools_ceil_last_window_dropped", 35, lambda g: (
        [N("MaxPool", ["x"], ["m"], kernel_shape=[3, 3], strides=[3, 3], pads=[0, 0, 2, 2], ceil_mode=1),
         N("AveragePool", ["x"], ["a"], kernel_shape=[3, 3], strides=[3, 3], pads=[0, 0, 2, 2], ceil_mode=1,
           count_include_pad=1),
         N("Add", ["m", "a"], ["y"])],
        [1, 1, 5, 5], []),
        # onnx's shape inference keeps the last window (3x3); onnxruntime and tract drop it (2x2).
        output_shape=False)
    good("avgpool_exclude_pad", 17, lambda g: (
        [N("AveragePool", ["x"], ["y"], kernel_shape=[2, 3], pads=[0, 1, 1, 0])],
        [1, 2, 5, 5], []))
    good("conv_globalpool_gemm", 18, lambda g: (
        [N("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["r"]),
         N("GlobalAveragePool", ["r"], ["p"]), N("GlobalMaxPool", ["r"], ["q"]), N("Add", ["p", "q"], ["s"]),
         N("Flatten", ["s"], ["f"]), N("Gemm", ["f", "V", "b"], ["y"], transB=1)],
        [1, 2, 5, 5], [const("W", g.w(4, 2, 3, 3)), const("B", g.w(4)), const("V", g.w(3, 4)), const("b", g.w(3))]))
    good("conv_batchnorm_relu", 19, lambda g: (
        [N("Conv", ["x", "W"], ["c"]), N("BatchNormalization", ["c", "s", "t", "mu", "var"], ["n"], epsilon=1e-3),
         N("Relu", ["n"], ["y"])],
        [1, 2, 5, 5], [const("W", g.w(3, 2, 2, 2)), const("s", g.w(3)), const("t", g.w(3)), const("mu", g.w(3)),
                       const("var", g.pos(3))]))
    good("normalise_sub_div_mul", 20, lambda g: (
        [N("Sub", ["x", "mean"], ["a"]), N("Div", ["a", "std"], ["b"]), N("Mul", ["b", "k"], ["c"]),
         N("Flatten", ["c"], ["f"]), N("Gemm", ["f", "W", "B"], ["h"], transB=1), N("Relu", ["h"], ["r"]),
         N("Gemm", ["r", "V"], ["y"], transB=1)],
        [1, 2, 3, 3], [const("mean", g.w(1, 2, 1, 1)), const("std", g.pos(1)), const("k", g.w(3)),
                       const("W", g.w(5, 18)), const("B", g.w(5)), const("V", g.w(2, 5))]))
    good("reshape_zero_minus_one", 21, lambda g: (
        [N("Reshape", ["x", "shape"], ["r"]), N("Gemm", ["r", "W"], ["y"])],
        [1, 2, 3, 4], [const("shape", [0, -1], np.int64), const("W", g.w(24, 3))]))
    good("transpose", 22, lambda g: (
        [N("Transpose", ["x"], ["t"], perm=[0, 3, 1, 2]), N("Flatten", ["t"], ["f"]), N("MatMul", ["f", "W"], ["m"]),
         N("Reshape", ["m", "s"], ["u"]), N("Transpose", ["u"], ["y"])],
        [1, 2, 3, 4], [const("W", g.w(24, 6)), const("s", [1, 2, 3], np.int64)]))
    good("pytorch_shape_flatten", 23, lambda g: (
        [N("Conv", ["x", "W"], ["c"], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["r"]), N("Shape", ["r"], ["sh"]),
         N("Gather", ["sh", "zero"], ["n"], axis=0), N("Unsqueeze", ["n", "axes0"], ["n1"]),
         N("Concat", ["n1", "minus1"], ["spec"], axis=0), N("Reshape", ["r", "spec"], ["f"]),
         N("Gemm", ["f", "V", "b"], ["y"], transB=1)],
        [1, 3, 4, 4], [const("W", g.w(2, 3, 3, 3)), const("zero", 0, np.int64), const("axes0", [0], np.int64),
                       const("minus1", [-1], np.int64), const("V", g.w(4, 32)), const("b", g.w(4))]))
    good("add_sub_branches", 24, lambda g: (
        [N("Gemm", ["x", "W1"], ["a0"]), N("Relu", ["a0"], ["a"]), N("Gemm", ["x", "W2"], ["b"]),
         N("Add", ["a", "b"], ["s"]), N("Relu", ["s"], ["t"]), N("Gemm", ["x", "W3"], ["c"]),
         N("Sub", ["t", "c"], ["y"])],
        [1, 6], [const("W1", g.w(6, 4)), const("W2", g.w(6, 4)), const("W3", g.w(6, 1))]))
    good("residual_conv", 25, lambda g: (
        [N("Conv", ["x", "W", "B"], ["c"], pads=[1, 1, 1, 1]), N("Relu", ["c"], ["r"]), N("Add", ["r", "x"], ["y"])],
        [1, 2, 4, 4], [const("W", g.w(2, 2, 3, 3)), const("B", g.w(2))]))
    good("squeeze_unsqueeze_opset11", 26, lambda g: (
        [N("Squeeze", ["x"], ["s"], axes=[1, 2]), N("Unsqueeze", ["s"], ["u"], axes=[0]),
         N("MatMul", ["u", "W"], ["m"]), N("Squeeze", ["m"], ["y"], axes=[0, -2])],
        [1, 1, 1, 5], [const("W", g.w(5, 3))]), opset=11)
    good("squeeze_unsqueeze_opset13", 27, lambda g: (
        [N("Squeeze", ["x", "ax"], ["s"]), N("Unsqueeze", ["s", "ax0"], ["u"]), N("MatMul", ["u", "W"], ["y"])],
        [1, 1, 1, 5], [const("ax", [1, -2], np.int64), const("ax0", [-1], np.int64), const("W", g.w(5, 1, 3))]))
    good("constant_nodes", 28, lambda g: (
        [N("Constant", [], ["k"], value=const("kv", g.w(1, 4))), N("Mul", ["x", "k"], ["m"]), N("Neg", ["m"], ["n"]),
         N("Constant", [], ["f"], value_float=0.25), N("Add", ["n", "f"], ["a"]),
         N("Constant", [], ["fs"], value_floats=[1.0, -2.0, 3.0, 0.5]), N("Sub", ["fs", "a"], ["y"])],
        [1, 4], []))
    good("slice_gather_concat", 29, lambda g: (
        [N("Slice", ["x", "st", "en", "ax", "sp"], ["s"]), N("Gather", ["x", "idx"], ["gt"], axis=1),
         N("Relu", ["gt"], ["g"]), N("Concat", ["s", "g", "c", "s"], ["cat"], axis=1),
         N("Slice", ["cat", "st2", "en2", "", "sp2"], ["rev"]), N("Gemm", ["rev", "W"], ["y"])],
        [1, 8], [const("st", [2], np.int64), const("en", [7], np.int64), const("ax", [1], np.int64),
                 const("sp", [2], np.int64), const("idx", [7, 0, 3], np.int64), const("c", g.w(1, 2)),
                 const("st2", [0, -1], np.int64), const("en2", [1, -100], np.int64), const("sp2", [1, -1], np.int64),
                 const("W", g.w(11, 3))]))
    good("slice_attributes_opset9", 30, lambda g: (
        [N("Slice", ["x"], ["s"], starts=[0, 1], ends=[1, -1], axes=[0, 1]), N("MatMul", ["s", "W"], ["y"])],
        [1, 6], [const("W", g.w(4, 2))]), opset=9)
    good("cast_identity_dropout", 31, lambda g: (
        [N("Cast", ["x"], ["c"], to=TensorProto.FLOAT), N("Identity", ["c"], ["i"]), N("Dropout", ["i"], ["d"]),
         N("Gemm", ["d", "W"], ["y"])],
        [1, 3], [const("W", g.w(3, 2))]))
    good("const_minus_x_broadcast_mul", 32, lambda g: (
        [N("Sub", ["c", "x"], ["s"]), N("Mul", ["s", "k"], ["y"])],
        [1, 3], [const("c", g.w(3)), const("k", g.w(2, 1))]))
    good("folded_constant_subgraph", 33, lambda g: (
        [N("MatMul", ["A", "B"], ["AB"]), N("Relu", ["AB"], ["W"]), N("Transpose", ["W"], ["Wt"]),
         N("Cast", ["two"], ["twof"], to=TensorProto.FLOAT), N("Div", ["Wt", "twof"], ["W2"]),
         N("Gemm", ["x", "W2"], ["y"], transB=1)],
        [1, 4], [const("A", g.w(4, 3)), const("B", g.w(3, 5)), const("two", 2, np.int64)]))
    good("sub_vars_broadcast", 34, lambda g: (
        [N("Gemm", ["x", "W1"], ["a"]), N("Gemm", ["x", "W2"], ["b"]), N("Sub", ["a", "b"], ["y"])],
        [1, 4], [const("W1", g.w(4, 3)), const("W2", g.w(4, 1))]))


def bad():
    g = Gen(100)
    d = HERE / "bad"
    save(d / "unsupported.onnx",
         [N("Sigmoid", ["x"], ["s"], name="act_sigmoid"), N("Relu", ["s"], ["r"]),
          N("Tanh", ["r"], ["y"], name="act_tanh")],
         [1, 4], [])
    w = g.w(3, 4)
    w[1, 1] = np.nan
    save(d / "nan_weight.onnx", [N("Gemm", ["x", "fc1.weight"], ["y"], name="fc1", transB=1)], [1, 4],
         [const("fc1.weight", w)])
    save(d / "conv_channels.onnx", [N("Conv", ["x", "W"], ["y"], name="conv_bad")], [1, 3, 5, 5],
         [const("W", g.w(2, 4, 3, 3))], check=False)
    save(d / "conv_too_large.onnx", [N("Conv", ["x", "W"], ["y"], name="big", pads=[1, 1, 1, 1])],
         [1, 2, 4000, 4000], [const("W", g.w(32, 2, 3, 3))])
    save(d / "missing_value.onnx", [N("Add", ["x", "nowhere"], ["y"], name="adder")], [1, 3], [], check=False)
    save(d / "extra_output.onnx",
         [N("MaxPool", ["x"], ["m", "idx"], name="pool", kernel_shape=[2, 2]), N("Identity", ["idx"], ["y"], name="use_idx")],
         [1, 1, 4, 4], [], check=False)
    save(d / "constant_output.onnx", [N("Constant", [], ["y"], name="k", value_floats=[1.0, 2.0])], [1, 3], [])
    save(d / "two_inputs.onnx", [N("Add", ["x", "z"], ["y"], name="join")], None, [],
         inputs=[helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3]) for n in ("x", "z")])


if __name__ == "__main__":
    models()
    bad()
