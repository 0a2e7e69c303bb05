# The newest server group of a cluster (needs the provider's aws block).
data "spinnaker_aws_server_group" "latest" {
  cluster = "shop-prod"
}

# One server group by its autoscaling group name.
data "spinnaker_aws_server_group" "v003" {
  name = "shop-prod-v003"
}

output "latest" {
  value = {
    name     = data.spinnaker_aws_server_group.latest.name
    sequence = data.spinnaker_aws_server_group.latest.sequence
    enabled  = data.spinnaker_aws_server_group.latest.enabled
    healthy  = data.spinnaker_aws_server_group.latest.healthy_instances
    # The AMI it launches, from its launch configuration or launch template version.
    image_id = data.spinnaker_aws_server_group.latest.image_id
  }
}

# Every server group of the cluster in Frigga order.
output "all" {
  value = data.spinnaker_aws_server_group.latest.server_groups[*].name
}
