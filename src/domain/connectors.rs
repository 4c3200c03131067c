//! Which [`Connector`] completes and forgets each provider's connections.

use super::{connections::Connector, linkedin::LinkedInConnector, types::Provider};

/// The connector of `provider`, when its integration has landed.
pub fn connector(provider: Provider) -> Option<&'static dyn Connector> {
    match provider {
        Provider::LinkedIn => Some(&LinkedInConnector),
        _ => None,
    }
}
