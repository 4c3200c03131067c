//! Next_KE Integrations.

pub mod proto {
    //! Generated protobuf and tonic code for `nextke.integrations.v1`.
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("nextke.integrations.v1");

    /// Encoded file descriptor set, served by reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/nextke_descriptor.bin"));
}

pub mod metrics;
pub mod providers;
