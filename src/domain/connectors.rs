//! Which [`Connector`] completes and forgets each provider's connections.

use super::{
    calendar::CalendarConnector, connections::Connector, linkedin::LinkedInConnector,
    types::Provider,
};

/// The connector of `provider`, when its integration has landed.
pub fn connector(provider: Provider) -> Option<&'static dyn Connector> {
    match provider {
        Provider::LinkedIn => Some(&LinkedInConnector),
        Provider::Google | Provider::Microsoft => Some(&CalendarConnector),
        _ => None,
    }
}
