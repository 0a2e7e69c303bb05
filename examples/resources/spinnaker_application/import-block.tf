import {
  to = spinnaker_application.shop
  id = "shop"
}
