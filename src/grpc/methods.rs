//! The closed set of gRPC method names this server serves, read once from the
//! descriptors of its services (ours, health, reflection v1 and v1alpha).
//!
//! Metrics label a gRPC request with its method only when the method is in
//! this set; any other path is `unknown`, so a caller cannot add series.

use std::{collections::HashSet, sync::Arc};

use prost::Message;
use prost_types::FileDescriptorSet;

use crate::proto::FILE_DESCRIPTOR_SET;

/// The label of a path that is not a served method.
pub const UNKNOWN: &str = "unknown";

/// Every served `/package.Service/Method` path.
#[derive(Clone, Debug)]
pub struct MethodSet {
    paths: HashSet<Arc<str>>,
    unknown: Arc<str>,
}

impl MethodSet {
    /// The methods of every service this server mounts.
    pub fn served() -> anyhow::Result<Self> {
        Self::from_descriptor_sets(&[
            FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ])
    }

    /// The methods of every service in these encoded descriptor sets.
    pub fn from_descriptor_sets(sets: &[&[u8]]) -> anyhow::Result<Self> {
        let mut paths = HashSet::new();
        for encoded in sets {
            let set = FileDescriptorSet::decode(*encoded)?;
            for file in set.file {
                let package = file.package();
                for service in &file.service {
                    let service_name = if package.is_empty() {
                        service.name().to_owned()
                    } else {
                        format!("{package}.{}", service.name())
                    };
                    for method in &service.method {
                        paths.insert(Arc::from(format!("/{service_name}/{}", method.name())));
                    }
                }
            }
        }
        Ok(Self {
            paths,
            unknown: Arc::from(UNKNOWN),
        })
    }

    /// The metric label of a request path: the path when it is a served
    /// method, else [`UNKNOWN`].
    pub fn label(&self, path: &str) -> Arc<str> {
        self.paths.get(path).unwrap_or(&self.unknown).clone()
    }

    /// How many methods are served.
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    /// Whether no method is served.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::{MethodSet, UNKNOWN};

    #[test]
    fn served_methods_are_labelled_by_path_and_others_are_unknown() {
        let set = MethodSet::served().expect("descriptors decode");
        for served in [
            "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus",
            "/grpc.health.v1.Health/Check",
            "/grpc.health.v1.Health/Watch",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        ] {
            assert_eq!(&*set.label(served), served);
        }
        for other in [
            "/nextke.integrations.v1.IntegrationService/NoSuchRpc",
            "/no.such.Service/Method",
            "/nextke.integrations.v1.IntegrationService/GetIntegrationStatus/extra",
            "",
            "/\"",
        ] {
            assert_eq!(&*set.label(other), UNKNOWN, "{other}");
        }
    }
}
