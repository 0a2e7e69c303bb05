variable "application" {
  description = "Spinnaker application name (lower case; letters, digits, `.` and `_`, no `-`). Also the Frigga app of the cluster."
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
  description = "Name of the promotion pipeline."
  type        = string
  default     = "Multi-region Promotion"
}

variable "webhook_source" {
  description = "Source of the webhook trigger (`POST /webhooks/webhook/<source>`) that starts a promotion. Null for no webhook trigger."
  type        = string
  default     = null
}

variable "aws_account" {
  description = "Spinnaker account name of the AWS account holding the cluster (the `credentials` of the cluster checks)."
  type        = string
}

variable "cluster" {
  description = "Frigga cluster promoted region by region; Terraform owns its autoscaling groups in every region."
  type        = string
}

variable "regions" {
  description = "Regions in promotion order, e.g. `[\"us-east-1\", \"eu-west-1\", \"ap-southeast-2\"]`. Each region after the first waits for a manual judgment."
  type        = list(string)

  validation {
    condition     = length(var.regions) > 0 && length(distinct(var.regions)) == length(var.regions)
    error_message = "The regions variable needs at least one region and no duplicates."
  }
}

variable "promotion_webhook_url" {
  description = "URL called (POST) once per region to promote there; the JSON body carries `application`, `cluster`, `region`, `version` and `execution`."
  type        = string
}

variable "version_parameter" {
  description = "Name of the pipeline parameter holding the version to promote."
  type        = string
  default     = "version"
}

variable "judgment_roles" {
  description = "Roles allowed to approve each next region; empty lets anyone with EXECUTE permission judge."
  type        = list(string)
  default     = []
}

variable "bake_time_seconds" {
  description = "Seconds to wait after promoting a region before asking to continue."
  type        = number
  default     = 0
}
