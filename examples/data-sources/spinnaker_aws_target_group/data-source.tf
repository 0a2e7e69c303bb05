data "spinnaker_aws_target_group" "shop" {
  name = "shop-prod"
}

output "healthy_targets" {
  value = data.spinnaker_aws_target_group.shop.healthy_targets
}

output "health_check_path" {
  value = data.spinnaker_aws_target_group.shop.health_check.path
}
