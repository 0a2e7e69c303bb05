resource "spinnaker_canary_config" "checkout" {
  name         = "checkout-latency"
  applications = ["shop"]
  description  = "Latency and errors of the checkout service"

  templates = {
    by-group = "group=\"$${scope}\",region=\"$${location}\""
  }

  classifier {
    group_weights = {
      latency = 70
      errors  = 30
    }
  }

  metric {
    name      = "p99-latency"
    groups    = ["latency"]
    direction = "increase"
    critical  = true

    effect_size {
      allowed_increase  = 1.25
      critical_increase = 1.5
    }

    outliers {
      strategy = "remove"
    }

    prometheus_query {
      metric_name            = "http_request_duration_seconds"
      custom_filter_template = "by-group"
      label_bindings         = ["quantile=\"0.99\""]
    }
  }

  metric {
    name           = "errors"
    groups         = ["errors"]
    direction      = "increase"
    must_have_data = true

    datadog_query {
      metric_name = "sum:trace.http.request.errors"
    }
  }

  metric {
    name   = "cpu"
    groups = ["errors"]
    muted  = true
    query_json = jsonencode({
      type       = "stackdriver"
      metricType = "compute.googleapis.com/instance/cpu/utilization"
    })
  }
}

# A pipeline's canary stage refers to the config by id.
resource "spinnaker_pipeline" "release" {
  application = "shop"
  name        = "release"

  canary_stage {
    ref_id               = "canary"
    name                 = "Canary"
    canary_config_id     = spinnaker_canary_config.checkout.id
    lifetime_duration    = "PT1H"
    pass_score           = 80
    marginal_score       = 60
    metrics_account_name = "prometheus"

    scope {
      control_scope    = "shop-prod-baseline"
      experiment_scope = "shop-prod-canary"
      control_location = "us-east-1"
    }
  }
}
