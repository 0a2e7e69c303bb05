//! Managed resource types, one module each.

pub mod application;
pub mod canary_config;
pub mod pipeline;

use crate::resource::Resource;

/// Every managed resource type the provider serves.
pub fn all() -> Vec<Box<dyn Resource>> {
    vec![
        Box::new(application::ApplicationResource),
        Box::new(canary_config::CanaryConfigResource),
        Box::new(pipeline::PipelineResource),
    ]
}
