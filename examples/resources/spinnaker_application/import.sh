# Applications are imported by name.
terraform import spinnaker_application.shop shop
