import {
  to = spinnaker_canary_config.checkout
  id = "0afb9a63-1182-4911-b80c-836e4d6e4e76"
}
