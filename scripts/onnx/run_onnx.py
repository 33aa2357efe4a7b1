#!/usr/bin/env python3
"""Runs an ONNX model written by `mnist-adder export` in onnxruntime.

    python3 scripts/onnx/run_onnx.py model.onnx inputs.safetensors outputs.safetensors

The model is first checked with onnx.checker.check_model (full_check: strict shape inference, so
the declared output shapes must agree with what the graph computes). inputs.safetensors holds
`image` float32 (N, 1, 28, 28), normalized as in training, and `addend` float32 (N, 1);
outputs.safetensors gets `logits` float32 (N, 10) and `sum` float32 (N, 1) as onnxruntime computes
them, and metadata naming the opset, the producer and the operators of the graph. One line on
standard output says what ran. Needs onnx, onnxruntime, numpy and safetensors
(scripts/onnx/requirements.txt). The Swift test Tests/AdderONNXTests runs it.
"""
import argparse
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file, save_file


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="the .onnx file")
    parser.add_argument("inputs", help="safetensors with image (N,1,28,28) and addend (N,1), float32")
    parser.add_argument("outputs", help="safetensors to write logits (N,10) and sum (N,1) to")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime's intra-op threads (1)")
    args = parser.parse_args()

    model = onnx.load(args.model)
    onnx.checker.check_model(model, full_check=True)

    inputs = load_file(args.inputs)
    feeds = {name: np.ascontiguousarray(inputs[name], dtype=np.float32) for name in ("image", "addend")}
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    found = sorted(i.name for i in session.get_inputs())
    if found != ["addend", "image"]:
        print(f"run_onnx: the model's inputs are {found}, expected ['addend', 'image']", file=sys.stderr)
        return 1
    logits, sums = session.run(["logits", "sum"], feeds)

    opset = next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx"))
    operators = " ".join(node.op_type for node in model.graph.node)
    save_file(
        {"logits": np.ascontiguousarray(logits, dtype=np.float32), "sum": np.ascontiguousarray(sums, dtype=np.float32)},
        args.outputs,
        metadata={
            "opset": str(opset),
            "producer": f"{model.producer_name} {model.producer_version}",
            "operators": operators,
            "onnx": onnx.__version__,
            "onnxruntime": ort.__version__,
        },
    )
    print(f"run_onnx: {args.model} checked (onnx {onnx.__version__}) and run in onnxruntime {ort.__version__}: "
          f"logits {list(logits.shape)}, sum {list(sums.shape)}, opset {opset}, {len(model.graph.node)} nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
