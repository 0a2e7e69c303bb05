terraform {
  required_providers {
    spinnaker = {
      source = "spinhcl/spinnaker"
    }
  }
}

# Settings left out here come from SPINNAKER_ENDPOINT, SPINNAKER_TOKEN and friends.
provider "spinnaker" {
  endpoint = "https://gate.example.com"
  token    = var.spinnaker_token

  request_timeout = "30s"
  max_retries     = 4
}

variable "spinnaker_token" {
  type      = string
  sensitive = true
}
