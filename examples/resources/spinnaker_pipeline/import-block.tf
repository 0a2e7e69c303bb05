import {
  to = spinnaker_pipeline.release
  id = "shop/Release"
}
