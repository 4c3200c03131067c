//! The codec of our generated services: prost's, except that a message that
//! does not decode is the caller's fault.
//!
//! tonic-prost answers `INTERNAL "failed to decode Protobuf message"` to invalid
//! UTF-8 in a string field, a truncated varint, a wrong wire type or a length
//! running past the message. [`ProtoCodec`] answers `INVALID_ARGUMENT` with
//! prost's description, which names the message and field (`Msg.field: ...`)
//! and never the bytes. `build.rs` wires it through `codec_path`, so the
//! generated clients use it too (an undecodable response then reads as
//! `INVALID_ARGUMENT` on the client side).

use std::marker::PhantomData;

use prost::Message;
use tonic::{
    codec::{BufferSettings, Codec, DecodeBuf, Decoder},
    Status,
};
use tonic_prost::ProstEncoder;

/// Prefix of prost's `DecodeError` display, replaced by ours.
const PROST_PREFIX: &str = "failed to decode Protobuf message: ";

/// [`tonic_prost::ProstCodec`] with decode errors mapped to `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct ProtoCodec<T, U> {
    _types: PhantomData<(T, U)>,
}

impl<T, U> Default for ProtoCodec<T, U> {
    fn default() -> Self {
        Self {
            _types: PhantomData,
        }
    }
}

impl<T, U> Codec for ProtoCodec<T, U>
where
    T: Message + Send + 'static,
    U: Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = ProstEncoder<T>;
    type Decoder = ProtoDecoder<U>;

    fn encoder(&mut self) -> Self::Encoder {
        ProstEncoder::new(BufferSettings::default())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProtoDecoder { _type: PhantomData }
    }
}

/// Decodes `U` with prost; a failure is `INVALID_ARGUMENT`.
#[derive(Debug, Clone)]
pub struct ProtoDecoder<U> {
    _type: PhantomData<U>,
}

impl<U: Message + Default> Decoder for ProtoDecoder<U> {
    type Item = U;
    type Error = Status;

    fn decode(&mut self, buf: &mut DecodeBuf<'_>) -> Result<Option<U>, Status> {
        U::decode(buf).map(Some).map_err(invalid_message)
    }

    fn buffer_settings(&self) -> BufferSettings {
        BufferSettings::default()
    }
}

/// The status of a message prost could not decode.
fn invalid_message(err: prost::DecodeError) -> Status {
    let text = err.to_string();
    let detail = text.strip_prefix(PROST_PREFIX).unwrap_or(&text);
    Status::invalid_argument(format!("invalid message: {detail}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_errors_name_the_field() {
        // ListActivityRequest.page_token (field 7) holding the bytes ff fe
        let bytes = [0x3a, 0x02, 0xff, 0xfe];
        let err = crate::proto::ListActivityRequest::decode(&bytes[..]).expect_err("not utf-8");
        let status = invalid_message(err);
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(
            status
                .message()
                .starts_with("invalid message: ListActivityRequest.page_token: "),
            "{}",
            status.message()
        );
    }
}
