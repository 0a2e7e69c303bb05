data "spinnaker_aws_load_balancer" "shop" {
  name = "shop-prod"
}

output "dns_name" {
  value = data.spinnaker_aws_load_balancer.shop.dns_name
}

output "listener_ports" {
  value = data.spinnaker_aws_load_balancer.shop.listeners[*].port
}
