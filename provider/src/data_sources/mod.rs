//! Data source types, one module each.

pub mod application;
pub mod aws_cluster;
pub mod aws_load_balancer;
pub mod aws_server_group;
pub mod aws_target_group;
pub mod pipeline;

use crate::resource::DataSource;

/// Every data source type the provider serves.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(application::ApplicationDataSource),
        Box::new(aws_cluster::AwsClusterDataSource),
        Box::new(aws_load_balancer::AwsLoadBalancerDataSource),
        Box::new(aws_server_group::AwsServerGroupDataSource),
        Box::new(aws_target_group::AwsTargetGroupDataSource),
        Box::new(pipeline::PipelineDataSource),
        Box::new(pipeline::PipelinesDataSource),
    ]
}
