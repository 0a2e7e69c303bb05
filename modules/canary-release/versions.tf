terraform {
  required_version = ">= 1.0"
  required_providers {
    spinnaker = {
      source = "spinhcl/spinnaker"
    }
  }
}
