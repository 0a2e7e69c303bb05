data "spinnaker_pipeline" "build" {
  application = "shop"
  name        = "Build"
}

# Start a pipeline managed elsewhere by id.
output "build_pipeline_id" {
  value = data.spinnaker_pipeline.build.id
}
