data "spinnaker_aws_cluster" "shop" {
  name   = "shop-prod"
  region = "us-east-1"
}

output "active" {
  value = data.spinnaker_aws_cluster.shop.active_server_group_name
}

output "next" {
  value = data.spinnaker_aws_cluster.shop.next_server_group_name
}
