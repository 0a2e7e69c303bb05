output "application" {
  description = "The application name."
  value       = local.application
}

output "pipeline_id" {
  description = "Id of the promotion pipeline."
  value       = spinnaker_pipeline.promotion.id
}

output "pipeline_name" {
  description = "Name of the promotion pipeline."
  value       = spinnaker_pipeline.promotion.name
}

output "judgment_stage_names" {
  description = "Names of the judgment stages gating each region after the first, keyed by region."
  value       = local.judgment_names
}
