//! Snapshot of the GetProviderSchema response exactly as Terraform receives it.

use provider::provider::SpinnakerProvider;

#[test]
fn get_provider_schema_snapshot() {
    let provider = SpinnakerProvider::new(Box::new(|_| None));
    insta::assert_json_snapshot!(provider::server::provider_schema_json(&provider));
}

#[test]
fn every_attribute_and_block_is_described() {
    let provider = SpinnakerProvider::new(Box::new(|_| None));
    let schemas = provider.schemas();
    let mut missing = schemas.provider.block.missing_descriptions("provider.");
    for (name, schema) in schemas.resources.iter().chain(&schemas.data_sources) {
        missing.extend(schema.block.missing_descriptions(&format!("{name}.")));
    }
    assert!(
        missing.is_empty(),
        "attributes without a description: {missing:?}"
    );
}
