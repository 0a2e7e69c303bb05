//! HCL for `spinnaker_pipeline`: the writer (pipeline JSON → `terraform fmt`-clean HCL) and the
//! reader (`.tf` → pipeline JSON with source positions), both driven by `pipeline::blocks`.

pub mod align;
pub mod names;
pub mod read;
pub mod write;
