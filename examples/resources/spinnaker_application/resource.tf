resource "spinnaker_application" "shop" {
  name            = "shop"
  email           = "team-shop@example.com"
  description     = "Storefront and checkout services"
  cloud_providers = ["kubernetes"]

  permissions {
    read    = ["shop-devs", "sre"]
    write   = ["shop-devs"]
    execute = ["shop-devs", "release-bot"]
  }
}
