# Region-by-region promotion of a Terraform-owned cluster with a judgment between regions.

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

variable "regions" {
  description = "Regions in promotion order."
  type        = list(string)
  default     = ["us-east-1", "us-west-2"]
}

variable "aws_endpoint" {
  description = "Endpoint override for AWS (a local mock in tests); null for AWS itself."
  type        = string
  default     = null
}

provider "spinnaker" {
  endpoint = var.spinnaker_endpoint

  aws {
    region   = var.regions[0]
    endpoint = var.aws_endpoint
  }
}

module "shop_promotion" {
  source = "../../modules/multi-region-promotion"

  application           = "shopglobal"
  owner_email           = "shop-team@example.com"
  aws_account           = "prod"
  cluster               = "shopglobal-prod"
  regions               = var.regions
  bake_time_seconds     = 600
  judgment_roles        = ["shop-release-managers"]
  promotion_webhook_url = "https://deploy.example.com/promote"
}

output "pipeline_id" {
  description = "Id of the promotion pipeline."
  value       = module.shop_promotion.pipeline_id
}

output "judgments" {
  description = "Judgment stages gating each region after the first."
  value       = module.shop_promotion.judgment_stage_names
}
