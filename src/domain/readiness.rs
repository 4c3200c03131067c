//! Whether this process can serve: what `/readyz` asks, without the shim
//! reaching storage itself.

use crate::{context::AppContext, store};

/// True when the database answers.
pub async fn database_ready(ctx: &AppContext) -> bool {
    store::ping(&ctx.db).await
}
