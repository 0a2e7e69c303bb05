data "spinnaker_pipelines" "shop" {
  application = "shop"
}

output "shop_pipeline_names" {
  value = [for p in data.spinnaker_pipelines.shop.pipelines : p.name]
}
