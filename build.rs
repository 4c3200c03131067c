//! Compiles `proto/` in pure Rust (protox), so no system `protoc` is needed,
//! writes the descriptor set for server reflection, and generates the tonic code.

use std::{env, fs, path::PathBuf};

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = [
        "proto/nextke/integrations/v1/common.proto",
        "proto/nextke/integrations/v1/integration_service.proto",
        "proto/nextke/integrations/v1/linkedin.proto",
        "proto/nextke/integrations/v1/calendar_service.proto",
        "proto/nextke/integrations/v1/ats_service.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(files, ["proto"])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("nextke_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        // decode errors are the caller's: INVALID_ARGUMENT (src/grpc/codec.rs)
        .codec_path("crate::grpc::codec::ProtoCodec")
        .compile_fds(fds)?;
    Ok(())
}
