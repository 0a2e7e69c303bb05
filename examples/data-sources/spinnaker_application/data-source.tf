data "spinnaker_application" "shop" {
  name = "shop"
}

output "shop_owner" {
  value = data.spinnaker_application.shop.email
}
