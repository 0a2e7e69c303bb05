# Canary release of Terraform-owned server groups: trigger, check that both clusters exist,
# canary analysis, manual judgment, then promote or announce a rollback.

resource "spinnaker_application" "this" {
  count           = var.create_application ? 1 : 0
  name            = var.application
  email           = var.owner_email
  description     = "Managed by the canary-release module"
  cloud_providers = ["aws"]
}

locals {
  application = var.create_application ? spinnaker_application.this[0].name : var.application
  judgment    = "Promote the canary?"
}

resource "spinnaker_pipeline" "release" {
  application      = local.application
  name             = var.pipeline_name
  description      = "Canary of ${var.canary_cluster} against ${var.baseline_cluster} in ${var.region}, then promotion or rollback"
  limit_concurrent = true

  dynamic "webhook_trigger" {
    for_each = var.webhook_source == null ? [] : [var.webhook_source]
    content {
      enabled = true
      source  = webhook_trigger.value
    }
  }

  dynamic "pipeline_trigger" {
    for_each = var.trigger_pipeline == null ? [] : [var.trigger_pipeline]
    content {
      enabled     = true
      application = local.application
      pipeline    = pipeline_trigger.value
      status      = ["successful"]
    }
  }

  check_preconditions_stage {
    ref_id = "clusters"
    name   = "Check clusters"

    precondition {
      type                       = "clusterSize"
      fail_pipeline              = true
      cluster                    = var.baseline_cluster
      credentials                = var.aws_account
      regions                    = [var.region]
      comparison                 = ">="
      expected                   = 1
      only_enabled_server_groups = true
    }

    precondition {
      type                       = "clusterSize"
      fail_pipeline              = true
      cluster                    = var.canary_cluster
      credentials                = var.aws_account
      regions                    = [var.region]
      comparison                 = ">="
      expected                   = 1
      only_enabled_server_groups = true
    }
  }

  canary_stage {
    ref_id                        = "canary"
    name                          = "Canary analysis"
    depends_on                    = ["clusters"]
    analysis_type                 = "realTime"
    continue_pipeline             = true
    canary_config_id              = var.canary_config_id
    lifetime_duration             = var.lifetime_duration
    canary_analysis_interval_mins = var.analysis_interval_mins
    pass_score                    = var.pass_score
    marginal_score                = var.marginal_score
    metrics_account_name          = var.metrics_account_name
    storage_account_name          = var.storage_account_name

    scope {
      scope_name          = "default"
      control_scope       = var.baseline_cluster
      control_location    = var.region
      experiment_scope    = var.canary_cluster
      experiment_location = var.region
    }
  }

  manual_judgment_stage {
    ref_id                  = "judgment"
    name                    = local.judgment
    depends_on              = ["canary"]
    instructions            = "Canary of ${var.canary_cluster}: status $${#stage('Canary analysis').status}, scores $${#stage('Canary analysis').context.canaryScores}. Promote or roll back?"
    judgment_inputs         = ["promote", "rollback"]
    required_judgment_roles = var.judgment_roles
  }

  webhook_stage {
    ref_id                   = "promote"
    name                     = "Promote"
    depends_on               = ["judgment"]
    stage_enabled_expression = "#judgment('${local.judgment}') == 'promote'"
    url                      = var.promotion_webhook_url
    method                   = "POST"
    payload = jsonencode({
      application = local.application
      from        = var.canary_cluster
      to          = var.baseline_cluster
      region      = var.region
      execution   = "$${execution.id}"
    })
  }

  webhook_stage {
    ref_id                   = "rollback"
    name                     = "Announce rollback"
    depends_on               = ["judgment"]
    stage_enabled_expression = "#judgment('${local.judgment}') != 'promote'"
    url                      = var.rollback_webhook_url
    method                   = "POST"
    payload = jsonencode({
      text = "Canary of ${var.canary_cluster} in ${var.region} was rolled back (execution $${execution.id})"
    })
  }
}
