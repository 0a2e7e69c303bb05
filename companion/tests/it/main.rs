//! spinhcl process-level tests (being written).
