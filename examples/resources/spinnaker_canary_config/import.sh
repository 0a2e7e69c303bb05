# Canary configs are imported by their id (GET /v2/canaryConfig lists them).
terraform import spinnaker_canary_config.checkout 0afb9a63-1182-4911-b80c-836e4d6e4e76
