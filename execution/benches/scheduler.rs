//! Scheduler benchmark (filled in below).
fn main() {}
