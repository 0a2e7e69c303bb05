//! Data source types, one module each.

pub mod application;
pub mod pipeline;

use crate::resource::DataSource;

/// Every data source type the provider serves.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(application::ApplicationDataSource),
        Box::new(pipeline::PipelineDataSource),
        Box::new(pipeline::PipelinesDataSource),
    ]
}
