//! Command-line parsing (stub: being written).
