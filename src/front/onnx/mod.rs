//! ONNX front end (stub: being written).
