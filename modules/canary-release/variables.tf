variable "application" {
  description = "Spinnaker application name (lower case; letters, digits, `.` and `_`, no `-`). Also the Frigga app of the clusters."
  type        = string
}

variable "owner_email" {
  description = "Owner email address of the application."
  type        = string
}

variable "create_application" {
  description = "Create the application with this module. Set to false when another configuration owns it."
  type        = bool
  default     = true
}

variable "pipeline_name" {
  description = "Name of the release pipeline."
  type        = string
  default     = "Canary Release"
}

variable "webhook_source" {
  description = "Source of the webhook trigger (`POST /webhooks/webhook/<source>`) that starts the release, e.g. from CI. Null for no webhook trigger."
  type        = string
  default     = null
}

variable "trigger_pipeline" {
  description = "Id of an upstream pipeline of the same application whose success starts the release. Null for no pipeline trigger."
  type        = string
  default     = null
}

variable "aws_account" {
  description = "Spinnaker account name of the AWS account holding the clusters (the `credentials` of the cluster checks)."
  type        = string
}

variable "region" {
  description = "AWS region of the baseline and canary clusters."
  type        = string
}

variable "baseline_cluster" {
  description = "Frigga cluster of the baseline, owned by Terraform (e.g. an `aws_autoscaling_group` named `<app>-<stack>-baseline-v000`)."
  type        = string
}

variable "canary_cluster" {
  description = "Frigga cluster of the canary, owned by Terraform."
  type        = string
}

variable "canary_config_id" {
  description = "Id of the Kayenta canary config that judges the canary (e.g. `spinnaker_canary_config.<name>.id`)."
  type        = string
}

variable "metrics_account_name" {
  description = "Kayenta metrics account."
  type        = string
  default     = null
}

variable "storage_account_name" {
  description = "Kayenta storage account."
  type        = string
  default     = null
}

variable "lifetime_duration" {
  description = "How long the canary analysis runs, ISO-8601 (e.g. `PT1H`)."
  type        = string
  default     = "PT1H"
}

variable "analysis_interval_mins" {
  description = "Minutes between canary judgements; null judges once at the end."
  type        = number
  default     = null
}

variable "pass_score" {
  description = "Final canary score needed to pass (0-100)."
  type        = number
  default     = 75
}

variable "marginal_score" {
  description = "An interval scoring at or below this fails the canary at once (0-100, at most `pass_score`)."
  type        = number
  default     = 50
}

variable "judgment_roles" {
  description = "Roles allowed to approve the promotion; empty lets anyone with EXECUTE permission judge."
  type        = list(string)
  default     = []
}

variable "promotion_webhook_url" {
  description = "URL called (POST) to promote the canary, e.g. a deploy service or CI job that rolls the canary's launch template out to the baseline."
  type        = string
}

variable "rollback_webhook_url" {
  description = "URL called (POST) to announce a rollback, e.g. a chat incoming webhook."
  type        = string
}
