//! Embedded HiGHS (stub: being written).
