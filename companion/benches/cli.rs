//! Benchmarks of the CLI (filled in below).
fn main() {}
