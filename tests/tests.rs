//! One integration-test binary (faster to link than one per file); each module is a topic.
mod data;
mod exactness;
mod solve;

mod backends;

mod onnx_frontend;

mod fixtures;
