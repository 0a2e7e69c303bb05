//! Integration tests for the execution core.
