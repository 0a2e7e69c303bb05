# Pipelines are imported by '<application>/<pipeline name>'; escape a "/" inside
# a name as %2F.
terraform import spinnaker_pipeline.release 'shop/Release'
