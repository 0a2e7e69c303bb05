# A canary release of Terraform-owned autoscaling groups, one module block per service.
# The baseline and canary clusters (shop-prod-baseline-vNNN, shop-prod-canary-vNNN) are
# created elsewhere in this configuration with aws_autoscaling_group resources.

terraform {
  required_providers {
    spinnaker = {
      source = "spinhcl/spinnaker"
    }
  }
}

variable "spinnaker_endpoint" {
  description = "Gate's URL, or `spinhcl server`'s."
  type        = string
  default     = "http://127.0.0.1:8084"
}

variable "aws_region" {
  description = "Region of the clusters."
  type        = string
  default     = "us-east-1"
}

variable "aws_endpoint" {
  description = "Endpoint override for AWS (a local mock in tests); null for AWS itself."
  type        = string
  default     = null
}

variable "canary_config_id" {
  description = "Kayenta canary config id."
  type        = string
  default     = "shop-latency"
}

provider "spinnaker" {
  endpoint = var.spinnaker_endpoint

  # Cluster names in the pipeline are checked against AWS at plan time.
  aws {
    region   = var.aws_region
    endpoint = var.aws_endpoint
  }
}

# The active baseline server group, for outputs and for wiring other resources.
data "spinnaker_aws_cluster" "baseline" {
  name = "shop-prod-baseline"
}

module "shop_canary" {
  source = "../../modules/canary-release"

  application           = "shop"
  owner_email           = "shop-team@example.com"
  webhook_source        = "shop-ci"
  aws_account           = "prod"
  region                = var.aws_region
  baseline_cluster      = data.spinnaker_aws_cluster.baseline.name
  canary_cluster        = "shop-prod-canary"
  canary_config_id      = var.canary_config_id
  lifetime_duration     = "PT30M"
  pass_score            = 80
  marginal_score        = 60
  promotion_webhook_url = "https://deploy.example.com/promote"
  rollback_webhook_url  = "https://chat.example.com/hooks/shop-releases"
}

output "pipeline_id" {
  description = "Id of the release pipeline."
  value       = module.shop_canary.pipeline_id
}

output "baseline_active_server_group" {
  description = "The baseline server group serving traffic now."
  value       = data.spinnaker_aws_cluster.baseline.active_server_group_name
}
