//! A message that does not decode is the caller's fault: hand-built gRPC frames
//! over HTTP/2 (h2c) and grpc-web over HTTP/1.1 answer `INVALID_ARGUMENT`;
//! a message over the size limit answers `OUT_OF_RANGE`.

use nextke_integrations::grpc::MAX_MESSAGE_BYTES;
use tonic::Code;

use crate::{
    db_tests,
    helpers::{spawn_app, token, Backend, TestApp},
};

const PATH: &str = "/nextke.integrations.v1.IntegrationService/ListActivity";

/// One gRPC frame: uncompressed flag, big-endian length, the bytes.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8];
    out.extend_from_slice(&u32::try_from(payload.len()).expect("size").to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Bodies of `ListActivityRequest` that prost cannot decode, with what the
/// message must name.
fn undecodable() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        // field 7 (page_token, string), length 2, bytes that are not UTF-8
        (
            "invalid utf-8",
            vec![0x3a, 0x02, 0xff, 0xfe],
            "ListActivityRequest.page_token",
        ),
        // field 6 (page_size, varint) whose varint never ends
        ("truncated varint", vec![0x30, 0xff, 0xff], "varint"),
        // field 7 (page_token) sent as a varint
        ("wrong wire type", vec![0x38, 0x01], "wire type"),
        // field 7 (page_token) claiming 16 bytes when one follows
        (
            "overlong length",
            vec![0x3a, 0x10, b'a'],
            "ListActivityRequest",
        ),
    ]
}

/// What came back: the `grpc-status` and `grpc-message` of a trailers-only
/// answer (`None` when the status follows the messages), and the body.
struct Answer {
    code: Option<Code>,
    message: String,
    body: Vec<u8>,
}

async fn post(app: &TestApp, client: &reqwest::Client, web: bool, body: Vec<u8>) -> Answer {
    let content_type = if web {
        "application/grpc-web+proto"
    } else {
        "application/grpc"
    };
    let mut request = client
        .post(format!("{}{PATH}", app.base_url))
        .header("content-type", content_type)
        .header("authorization", format!("Bearer {}", token("alice", &[])));
    if !web {
        request = request.header("te", "trailers");
    }
    let response = request.body(body).send().await.expect("call");
    assert_eq!(response.status(), 200);
    let version = if web {
        reqwest::Version::HTTP_11
    } else {
        reqwest::Version::HTTP_2
    };
    assert_eq!(response.version(), version);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let code = header("grpc-status")
        .and_then(|c| c.parse::<i32>().ok())
        .map(Code::from);
    let message = percent_decode(&header("grpc-message").unwrap_or_default());
    let body = response.bytes().await.expect("body").to_vec();
    Answer {
        code,
        message,
        body,
    }
}

async fn undecodable_messages_are_invalid_argument(backend: Backend) {
    let app = spawn_app(backend).await;
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("h2c client");
    let http1 = reqwest::Client::builder()
        .http1_only()
        .build()
        .expect("http/1.1 client");
    for (web, client) in [(false, &h2c), (true, &http1)] {
        // a well-formed frame is answered with a message, so the refusals below are about the bytes
        let ok = post(&app, client, web, frame(&[0x30, 0x05])).await;
        assert_eq!(ok.code, None, "well-formed, web={web}: {}", ok.message);
        assert_eq!(ok.body.first(), Some(&0), "a data frame first, web={web}");

        for (case, payload, named) in undecodable() {
            let answer = post(&app, client, web, frame(&payload)).await;
            let message = answer.message;
            assert_eq!(
                answer.code,
                Some(Code::InvalidArgument),
                "{case}, web={web}: {message}"
            );
            assert!(message.contains(named), "{case}, web={web}: {message}");
            assert!(
                !message.contains("failed to decode Protobuf message"),
                "{message}"
            );
        }

        // over the size limit: refused from the frame's length prefix, before decoding.
        // Over HTTP/2 the whole message is sent; over HTTP/1.1 only the prefix and a
        // few bytes, since the server answers (and closes) before reading a body it
        // refuses, and the client would see a broken pipe instead of the answer.
        let len = MAX_MESSAGE_BYTES;
        let mut big = vec![0x3a];
        let mut varint = len;
        while varint >= 0x80 {
            big.push(u8::try_from(varint & 0x7f).expect("7 bits") | 0x80);
            varint >>= 7;
        }
        big.push(u8::try_from(varint).expect("7 bits"));
        big.resize(big.len() + len, b'a');
        let mut big = frame(&big);
        assert!(big.len() - 5 > MAX_MESSAGE_BYTES);
        if web {
            big.truncate(5 + 16);
        }
        let answer = post(&app, client, web, big).await;
        assert_eq!(
            answer.code,
            Some(Code::OutOfRange),
            "over-size, web={web}: {}",
            answer.message
        );
    }
    app.stop().await;
}

/// `grpc-message` is percent-encoded.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

db_tests!(undecodable_messages_are_invalid_argument);
