resource "spinnaker_pipeline" "release" {
  application      = spinnaker_application.shop.name
  name             = "Release"
  description      = "Build, approve, verify with a canary, promote"
  limit_concurrent = true
  spel_evaluator   = "v4"

  parameter {
    name     = "version"
    label    = "Version to release"
    required = true
  }

  notification {
    type    = "slack"
    address = "#shop-releases"
    level   = "pipeline"
    when    = ["pipeline.failed"]
    message = { "pipeline.failed" = "Release of $${parameters['version']} failed" }
  }

  # Start when the build pipeline of the same application succeeds.
  pipeline_trigger {
    enabled       = true
    application   = spinnaker_application.shop.name
    pipeline_name = spinnaker_pipeline.build.name
    status        = ["successful"]
  }

  cron_trigger {
    enabled         = true
    cron_expression = "0 0 10 ? * MON-FRI"
  }

  manual_judgment_stage {
    ref_id          = "approve"
    name            = "Approve"
    instructions    = "Release $${parameters['version']} to production?"
    judgment_inputs = ["release", "skip"]
  }

  # A deploy stage created in Deck (for example ref_id "deploy") is kept as an
  # unmanaged stage; declared stages may depend on it.
  canary_stage {
    ref_id                   = "canary"
    name                     = "Canary"
    depends_on               = ["approve"]
    stage_enabled_expression = "#judgment('Approve') == 'release'"
    canary_config_id         = "0afb9a63-1182-4911-b80c-836e4d6e4e76"
    lifetime_duration        = "PT1H"
    pass_score               = 90
    marginal_score           = 70
    metrics_account_name     = "prometheus"
    storage_account_name     = "minio"

    scope {
      control_scope    = "shop-prod-baseline"
      experiment_scope = "shop-prod-canary"
      control_location = "us-east-1"
    }
  }

  webhook_stage {
    ref_id     = "announce"
    name       = "Announce"
    depends_on = ["canary"]
    url        = "https://chat.example.com/hooks/releases"
    method     = "POST"
    payload    = jsonencode({ text = "Released $${parameters['version']}" })

    restricted_execution_window {
      days = [2, 3, 4, 5, 6]
      whitelist {
        start_hour = 9
        start_min  = 0
        end_hour   = 17
        end_min    = 0
      }
    }
  }
}

resource "spinnaker_pipeline" "build" {
  application = spinnaker_application.shop.name
  name        = "Build"

  webhook_trigger {
    enabled = true
    source  = "shop-build"
  }

  jenkins_stage {
    ref_id = "build"
    name   = "Build"
    master = "ci"
    job    = "shop/main"
  }
}
