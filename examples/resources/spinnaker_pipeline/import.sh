# Pipelines are imported by '<application>/<pipeline name>'; escape a "/" inside
# a name as %2F.
terraform import spinnaker_pipeline.release 'shop/Release'

# Or by the pipeline's id.
terraform import spinnaker_pipeline.release 0a7b3c1e-5d2f-4e6a-9b8c-1d2e3f4a5b6c
