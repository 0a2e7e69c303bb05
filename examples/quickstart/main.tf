# The quickstart: an application and a pipeline that waits, asks a person, then
# branches on the answer. `cargo xtask quickstart` applies it against the
# embedded engine (`spinhcl server --dev`) and runs it.

terraform {
  required_providers {
    spinnaker = {
      source = "spinhcl/spinnaker"
    }
  }
}

variable "endpoint" {
  description = "Gate (or spinhcl server) URL."
  type        = string
  default     = "http://127.0.0.1:8084"
}

provider "spinnaker" {
  endpoint = var.endpoint
}

resource "spinnaker_application" "quickstart" {
  name        = "quickstart"
  email       = "team@example.com"
  description = "The spinhcl quickstart"
}

resource "spinnaker_pipeline" "deploy" {
  application            = spinnaker_application.quickstart.name
  name                   = "deploy"
  description            = "Waits, asks a human, then branches on the answer."
  limit_concurrent       = true
  keep_waiting_pipelines = false

  # POST /webhooks/webhook/quickstart starts it.
  webhook_trigger {
    enabled = true
    source  = "quickstart"
  }

  wait_stage {
    ref_id    = "soak"
    name      = "Soak"
    wait_time = 1
  }

  manual_judgment_stage {
    ref_id          = "approve"
    name            = "Approve"
    depends_on      = ["soak"]
    instructions    = "Promote this release?"
    judgment_inputs = ["promote", "rollback"]
  }

  # Exactly one of the two branches runs; the other is skipped.
  wait_stage {
    ref_id                   = "promote"
    name                     = "Promote"
    depends_on               = ["approve"]
    stage_enabled_expression = "#judgment('Approve') == 'promote'"
  }

  wait_stage {
    ref_id                   = "rollback"
    name                     = "Roll back"
    depends_on               = ["approve"]
    stage_enabled_expression = "#judgment('Approve') == 'rollback'"
  }
}

output "pipeline_id" {
  value = spinnaker_pipeline.deploy.id
}
