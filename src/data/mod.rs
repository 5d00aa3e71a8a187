//! Input images and output pictures (stub: being written).
