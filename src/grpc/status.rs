//! Domain errors to gRPC statuses, through the one table in [`crate::error`].

use tonic::Status;

use crate::error::{ceil_secs, AppError};

impl From<AppError> for Status {
    fn from(err: AppError) -> Self {
        let answer = err.answer();
        let mut status = Status::new(answer.grpc, err.public_message());
        if let Some(wait) = answer.retry_after {
            if let Ok(value) = ceil_secs(wait).to_string().parse() {
                status.metadata_mut().insert("retry-after", value);
            }
        }
        status
    }
}
