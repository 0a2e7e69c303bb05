# Region-by-region promotion: in each region, check that the cluster serves (an enabled server
# group exists), promote, let it bake, and ask before the next region.

resource "spinnaker_application" "this" {
  count           = var.create_application ? 1 : 0
  name            = var.application
  email           = var.owner_email
  description     = "Managed by the multi-region-promotion module"
  cloud_providers = ["aws"]
}

locals {
  application = var.create_application ? spinnaker_application.this[0].name : var.application
  # One step per region; a region after the first starts from the judgment before it.
  steps = [
    for i, region in var.regions : {
      index  = i
      region = region
      after  = i == 0 ? [] : ["approve-${region}"]
    }
  ]
  judgment_names = { for i, region in var.regions : region => "Promote to ${region}?" if i > 0 }
}

resource "spinnaker_pipeline" "promotion" {
  application      = local.application
  name             = var.pipeline_name
  description      = "Promotes ${var.cluster} through ${join(", ", var.regions)}"
  limit_concurrent = true

  parameter {
    name     = var.version_parameter
    label    = "Version to promote"
    required = true
  }

  dynamic "webhook_trigger" {
    for_each = var.webhook_source == null ? [] : [var.webhook_source]
    content {
      enabled = true
      source  = webhook_trigger.value
    }
  }

  # Regions after the first wait for a person.
  dynamic "manual_judgment_stage" {
    for_each = [for s in local.steps : s if s.index > 0]
    content {
      ref_id                  = "approve-${manual_judgment_stage.value.region}"
      name                    = local.judgment_names[manual_judgment_stage.value.region]
      depends_on              = ["bake-${var.regions[manual_judgment_stage.value.index - 1]}"]
      instructions            = "${var.cluster} is live in ${var.regions[manual_judgment_stage.value.index - 1]}. Continue to ${manual_judgment_stage.value.region}?"
      judgment_inputs         = ["continue", "stop"]
      required_judgment_roles = var.judgment_roles
    }
  }

  dynamic "check_preconditions_stage" {
    for_each = local.steps
    content {
      ref_id                   = "check-${check_preconditions_stage.value.region}"
      name                     = "Check ${check_preconditions_stage.value.region}"
      depends_on               = check_preconditions_stage.value.after
      stage_enabled_expression = check_preconditions_stage.value.index == 0 ? null : "#judgment('${local.judgment_names[check_preconditions_stage.value.region]}') == 'continue'"

      precondition {
        type                       = "clusterSize"
        fail_pipeline              = true
        cluster                    = var.cluster
        credentials                = var.aws_account
        regions                    = [check_preconditions_stage.value.region]
        comparison                 = ">="
        expected                   = 1
        only_enabled_server_groups = true
      }
    }
  }

  dynamic "webhook_stage" {
    for_each = local.steps
    content {
      ref_id                   = "promote-${webhook_stage.value.region}"
      name                     = "Promote ${webhook_stage.value.region}"
      depends_on               = ["check-${webhook_stage.value.region}"]
      stage_enabled_expression = webhook_stage.value.index == 0 ? null : "#judgment('${local.judgment_names[webhook_stage.value.region]}') == 'continue'"
      url                      = var.promotion_webhook_url
      method                   = "POST"
      payload = jsonencode({
        application = local.application
        cluster     = var.cluster
        region      = webhook_stage.value.region
        version     = "$${parameters['${var.version_parameter}']}"
        execution   = "$${execution.id}"
      })
    }
  }

  dynamic "wait_stage" {
    for_each = local.steps
    content {
      ref_id                   = "bake-${wait_stage.value.region}"
      name                     = "Bake ${wait_stage.value.region}"
      depends_on               = ["promote-${wait_stage.value.region}"]
      stage_enabled_expression = wait_stage.value.index == 0 ? null : "#judgment('${local.judgment_names[wait_stage.value.region]}') == 'continue'"
      wait_time                = var.bake_time_seconds
    }
  }
}
