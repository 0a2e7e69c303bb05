//! Data source types, one module each.

pub mod application;

use crate::resource::DataSource;

/// Every data source type the provider serves.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![Box::new(application::ApplicationDataSource)]
}
