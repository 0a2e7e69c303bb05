output "application" {
  description = "The application name."
  value       = local.application
}

output "pipeline_id" {
  description = "Id of the release pipeline."
  value       = spinnaker_pipeline.release.id
}

output "pipeline_name" {
  description = "Name of the release pipeline."
  value       = spinnaker_pipeline.release.name
}

output "judgment_stage_name" {
  description = "Name of the manual judgment stage, for `spinhcl judge` and `#judgment(...)`."
  value       = local.judgment
}
