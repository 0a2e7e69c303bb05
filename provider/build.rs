//! Compiles the tfplugin5 and go-plugin protocol definitions in `../proto`
//! with a vendored `protoc`, so no system protobuf compiler is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    // Ordered maps keep GetProviderSchema deterministic (snapshots, docs).
    config.btree_map(["."]);
    tonic_prost_build::configure()
        .build_client(false)
        .compile_with_config(
            config,
            &["../proto/tfplugin5.proto", "../proto/plugin.proto"],
            &["../proto"],
        )?;
    Ok(())
}
