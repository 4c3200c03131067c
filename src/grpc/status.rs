//! Domain errors to gRPC statuses, through the one table in [`crate::error`].

use tonic::Status;

use crate::error::AppError;

impl From<AppError> for Status {
    fn from(err: AppError) -> Self {
        let (code, _) = err.codes();
        let retry_after = match &err {
            AppError::ResourceExhausted { retry_after, .. } => *retry_after,
            _ => None,
        };
        let mut status = Status::new(code, err.public_message());
        if let Some(wait) = retry_after {
            let secs = wait.as_secs().max(1).to_string();
            if let Ok(value) = secs.parse() {
                status.metadata_mut().insert("retry-after", value);
            }
        }
        status
    }
}
