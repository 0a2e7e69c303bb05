//! The one end-to-end test binary: real Terraform against the provider and
//! `spinhcl server`. Acceptance tests skip unless `TF_ACC=1`.

mod aws;
mod cli;
mod provider;
