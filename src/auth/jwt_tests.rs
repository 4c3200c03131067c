//! Tests of the JWT verifier and signer, with PEM fixtures from `testdata/`.

use super::*;
use crate::auth::identity::OrgRole;
use serde_json::{json, Value};

const RSA_PRIVATE: &str = include_str!("testdata/rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("testdata/rsa_public.pem");
const ED_PRIVATE: &str = include_str!("testdata/ed25519_private.pem");
const ED_PUBLIC: &str = include_str!("testdata/ed25519_public.pem");
const SECRET: &str = "0123456789abcdef0123456789abcdef-test";
const ISS: &str = "https://platform.nextke.test";
const AUD: &str = "nextke-integrations";
const HOUR: Duration = Duration::from_secs(3600);

fn hs_config() -> JwtConfig {
    JwtConfig::hs256(SecretString::from(SECRET), ISS, AUD)
}

fn rs_config() -> JwtConfig {
    JwtConfig::public_key(JwtAlgorithm::Rs256, RSA_PUBLIC, ISS, AUD)
        .with_private_key_pem(SecretString::from(RSA_PRIVATE))
}

fn ed_config() -> JwtConfig {
    JwtConfig::public_key(JwtAlgorithm::EdDsa, ED_PUBLIC, ISS, AUD)
        .with_private_key_pem(SecretString::from(ED_PRIVATE))
}

fn now() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

fn claims() -> Value {
    json!({"sub": "user-1", "iss": ISS, "aud": AUD, "iat": now(), "exp": now() + 600})
}

/// Signs arbitrary claims with HS256 and the test secret.
fn hs_token(claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .expect("encode")
}

fn verify_hs(claims: &Value) -> Result<Identity, AuthError> {
    JwtVerifier::new(&hs_config())
        .expect("verifier")
        .verify(&hs_token(claims))
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

fn without(mut base: Value, key: &str) -> Value {
    base.as_object_mut().expect("object").remove(key);
    base
}

#[test]
fn minted_tokens_verify_for_each_algorithm() {
    let orgs = [
        OrgMembership::new("org-a", OrgRole::Admin),
        OrgMembership::new("org-b", OrgRole::Member),
    ];
    for config in [hs_config(), rs_config(), ed_config()] {
        let signer = JwtSigner::new(&config).expect("signer");
        let verifier = JwtVerifier::new(&config).expect("verifier");
        let token = signer.mint("user-1", &orgs, false, HOUR).expect("mint");
        let id = verifier.verify(&token).expect("verify");
        assert_eq!(id.user_id, "user-1", "{}", config.algorithm);
        assert_eq!(id.orgs, orgs);
        assert!(!id.service);
        assert!(id.is_admin_of("org-a") && !id.is_admin_of("org-b"));

        let service = signer.mint("svc", &[], true, HOUR).expect("mint");
        let id = verifier.verify(&service).expect("verify");
        assert!(id.service && id.orgs.is_empty());
    }
}

#[test]
fn org_roles_are_parsed_and_defaults_apply() {
    let token = with(
        claims(),
        "orgs",
        json!([{"id": "o1", "role": "admin"}, {"id": "o2", "role": "member"}]),
    );
    let id = verify_hs(&token).expect("verify");
    assert_eq!(id.admin_org_ids().collect::<Vec<_>>(), ["o1"]);
    assert!(id.is_member_of("o2"));
    assert!(!id.service);
    assert!(verify_hs(&with(claims(), "orgs", Value::Null))
        .expect("verify")
        .orgs
        .is_empty());
    assert_eq!(
        verify_hs(&with(claims(), "role", json!("admin"))).err(),
        Some(AuthError::InvalidClaim("role")),
        "a role we do not know is refused, not ignored"
    );
    assert_eq!(
        verify_hs(&with(
            claims(),
            "orgs",
            json!([{"id": "o1", "role": "owner"}])
        ))
        .err(),
        Some(AuthError::Malformed)
    );
}

#[test]
fn time_and_audience_checks() {
    let past = now() - 3600;
    let future = now() + 3600;
    let cases = [
        (with(claims(), "exp", json!(past)), AuthError::Expired),
        (
            without(claims(), "exp"),
            AuthError::MissingClaim("exp".into()),
        ),
        (with(claims(), "nbf", json!(future)), AuthError::NotYetValid),
        (
            with(claims(), "aud", json!("someone-else")),
            AuthError::WrongAudience,
        ),
        (
            without(claims(), "aud"),
            AuthError::MissingClaim("aud".into()),
        ),
        (
            with(claims(), "iss", json!("https://evil.test")),
            AuthError::WrongIssuer,
        ),
        (
            without(claims(), "iss"),
            AuthError::MissingClaim("iss".into()),
        ),
        (
            without(claims(), "sub"),
            AuthError::MissingClaim("sub".into()),
        ),
        (
            with(claims(), "sub", json!("")),
            AuthError::MissingClaim("sub".into()),
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(verify_hs(&token).err(), Some(expected), "{token}");
    }
    // Within the leeway both are still fine; an audience list containing ours is fine.
    assert!(verify_hs(&with(claims(), "exp", json!(now() - 5))).is_ok());
    assert!(verify_hs(&with(claims(), "nbf", json!(now() + 5))).is_ok());
    assert!(verify_hs(&with(claims(), "aud", json!(["x", AUD]))).is_ok());
}

#[test]
fn bad_signature_is_rejected() {
    let verifier = JwtVerifier::new(&hs_config()).expect("verifier");
    let other = JwtConfig::hs256(
        SecretString::from("another-secret-of-at-least-32-bytes!"),
        ISS,
        AUD,
    );
    let token = JwtSigner::new(&other)
        .expect("signer")
        .mint("user-1", &[], false, HOUR)
        .expect("mint");
    assert_eq!(verifier.verify(&token).err(), Some(AuthError::BadSignature));

    // A payload swapped under a valid RS256 signature.
    let rs = JwtSigner::new(&rs_config()).expect("signer");
    let a = rs.mint("user-a", &[], false, HOUR).expect("mint");
    let b = rs.mint("user-b", &[], true, HOUR).expect("mint");
    let a: Vec<&str> = a.split('.').collect();
    let b: Vec<&str> = b.split('.').collect();
    let forged = format!("{}.{}.{}", a[0], b[1], a[2]);
    let verifier = JwtVerifier::new(&rs_config()).expect("verifier");
    assert_eq!(
        verifier.verify(&forged).err(),
        Some(AuthError::BadSignature)
    );
}

#[test]
fn alg_none_is_rejected() {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims().to_string());
    let token = format!("{header}.{payload}.");
    for config in [hs_config(), rs_config(), ed_config()] {
        let verifier = JwtVerifier::new(&config).expect("verifier");
        assert_eq!(
            verifier.verify(&token).err(),
            Some(AuthError::WrongAlgorithm)
        );
    }
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_rejected() {
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(RSA_PUBLIC.as_bytes()),
    )
    .expect("encode");
    let verifier = JwtVerifier::new(&rs_config()).expect("verifier");
    assert_eq!(
        verifier.verify(&token).err(),
        Some(AuthError::WrongAlgorithm)
    );
}

#[test]
fn other_pinned_algorithm_is_rejected() {
    let rs_token = JwtSigner::new(&rs_config())
        .expect("signer")
        .mint("u", &[], false, HOUR)
        .expect("mint");
    for config in [hs_config(), ed_config()] {
        let verifier = JwtVerifier::new(&config).expect("verifier");
        assert_eq!(
            verifier.verify(&rs_token).err(),
            Some(AuthError::WrongAlgorithm)
        );
    }
}

#[test]
fn malformed_and_missing_tokens() {
    let verifier = JwtVerifier::new(&hs_config()).expect("verifier");
    assert_eq!(verifier.verify("  ").err(), Some(AuthError::Missing));
    for token in ["abc", "a.b", "a.b.c.d", "!!.e30.x", "e30.e30.x"] {
        assert_eq!(
            verifier.verify(token).err(),
            Some(AuthError::Malformed),
            "{token}"
        );
    }
    assert_eq!(verifier.verify_header(None).err(), Some(AuthError::Missing));
    let token = hs_token(&claims());
    let id = verifier
        .verify_header(Some(&format!("bearer {token}")))
        .expect("verify");
    assert_eq!(id.user_id, "user-1");
}

#[test]
fn authorization_header_parsing() {
    assert_eq!(
        parse_authorization_header("Bearer abc.def.ghi"),
        Ok("abc.def.ghi")
    );
    assert_eq!(parse_authorization_header("bEaReR   tok  "), Ok("tok"));
    assert_eq!(parse_authorization_header(""), Err(AuthError::Missing));
    assert_eq!(
        parse_authorization_header("Bearer "),
        Err(AuthError::Missing)
    );
    assert_eq!(
        parse_authorization_header("Basic dXNlcjpwYXNz"),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        parse_authorization_header("Bearertok"),
        Err(AuthError::Malformed)
    );
    assert_eq!(
        parse_authorization_header("Bearer a b"),
        Err(AuthError::Malformed)
    );
}

#[test]
fn configuration_errors() {
    let short = JwtConfig::hs256(SecretString::from("short"), ISS, AUD);
    assert!(matches!(
        JwtVerifier::new(&short),
        Err(AuthError::Config(_))
    ));
    let mixed = JwtConfig::public_key(JwtAlgorithm::Hs256, RSA_PUBLIC, ISS, AUD);
    assert!(matches!(
        JwtVerifier::new(&mixed),
        Err(AuthError::Config(_))
    ));
    let secret_for_rs = JwtConfig {
        algorithm: JwtAlgorithm::Rs256,
        ..hs_config()
    };
    assert!(matches!(
        JwtVerifier::new(&secret_for_rs),
        Err(AuthError::Config(_))
    ));
    let ed_key_for_rs = JwtConfig::public_key(JwtAlgorithm::Rs256, ED_PUBLIC, ISS, AUD);
    assert!(JwtVerifier::new(&ed_key_for_rs).is_err());
    let no_private = JwtConfig::public_key(JwtAlgorithm::EdDsa, ED_PUBLIC, ISS, AUD);
    assert!(JwtVerifier::new(&no_private).is_ok());
    assert!(matches!(
        JwtSigner::new(&no_private),
        Err(AuthError::Config(_))
    ));
    let no_issuer = JwtConfig::hs256(SecretString::from(SECRET), " ", AUD);
    assert!(JwtVerifier::new(&no_issuer).is_err());
    assert_eq!("eddsa".parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::EdDsa));
    assert!("none".parse::<JwtAlgorithm>().is_err());
}

#[test]
fn debug_and_errors_are_secret_free() {
    let config = rs_config();
    let debug = format!(
        "{config:?} {:?} {:?} {:?}",
        hs_config(),
        JwtVerifier::new(&hs_config()).expect("verifier"),
        JwtSigner::new(&config).expect("signer")
    );
    assert!(!debug.contains(SECRET), "{debug}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
    let token = hs_token(&with(claims(), "exp", json!(1)));
    let err = JwtVerifier::new(&hs_config())
        .expect("verifier")
        .verify(&token)
        .expect_err("expired");
    assert!(!err.to_string().contains(&token));
    assert!(err.is_unauthenticated());
}

#[test]
fn identity_claims_must_fit_their_columns() {
    let long_sub = "u".repeat(crate::limits::USER_ID_MAX);
    let id = verify_hs(&with(claims(), "sub", json!(long_sub))).expect("128 characters fit");
    assert_eq!(id.user_id.chars().count(), 128);
    let long_org = "o".repeat(crate::limits::ORG_ID_MAX);
    let org = |id: &str| json!([{"id": id, "role": "admin"}]);
    assert!(verify_hs(&with(claims(), "orgs", org(&long_org))).is_ok());

    let sub = |v: &str| with(claims(), "sub", json!(v));
    let orgs = |v: Value| with(claims(), "orgs", v);
    let too_many: Vec<Value> = (0..=crate::limits::ORGS_MAX)
        .map(|i| json!({"id": format!("o{i}"), "role": "member"}))
        .collect();
    let cases = [
        (sub(&"u".repeat(129)), AuthError::InvalidClaim("sub")),
        (sub("user\0one"), AuthError::InvalidClaim("sub")),
        (sub("user\none"), AuthError::InvalidClaim("sub")),
        (sub("user\u{7f}"), AuthError::InvalidClaim("sub")),
        (sub("   "), AuthError::MissingClaim("sub".into())),
        (orgs(org("")), AuthError::InvalidClaim("orgs")),
        (orgs(org(&"o".repeat(129))), AuthError::InvalidClaim("orgs")),
        (orgs(org("acme\0")), AuthError::InvalidClaim("orgs")),
        (orgs(org("acme\t")), AuthError::InvalidClaim("orgs")),
        (
            orgs(json!([{"id": "o1", "role": "member"}, {"id": "o1", "role": "admin"}])),
            AuthError::InvalidClaim("orgs"),
        ),
        (
            orgs(Value::Array(too_many)),
            AuthError::InvalidClaim("orgs"),
        ),
        (
            with(claims(), "role", json!("Service")),
            AuthError::InvalidClaim("role"),
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(verify_hs(&token).err(), Some(expected), "{token}");
    }
}

#[test]
fn lifetime_and_issued_at_are_bounded() {
    let day = DEFAULT_MAX_TTL_SECS;
    let at = |iat: u64, exp: u64| with(with(claims(), "iat", json!(iat)), "exp", json!(exp));
    let t = now();
    assert!(verify_hs(&at(t, t + day)).is_ok(), "exactly the maximum");
    assert_eq!(
        verify_hs(&at(t, t + day + 1)).err(),
        Some(AuthError::LifetimeTooLong)
    );
    assert_eq!(
        verify_hs(&without(claims(), "iat")).err(),
        Some(AuthError::MissingClaim("iat".into()))
    );
    assert_eq!(
        verify_hs(&at(t + 3600, t + 4000)).err(),
        Some(AuthError::IssuedInFuture)
    );
    assert!(verify_hs(&at(t + 5, t + 600)).is_ok(), "within the leeway");
    assert_eq!(
        verify_hs(&with(claims(), "iat", json!("yesterday"))).err(),
        Some(AuthError::Malformed)
    );

    // 0: no maximum, so a long lifetime and a missing iat are fine; the future still is not
    let unbounded = JwtVerifier::new(&hs_config().with_max_ttl_secs(0)).expect("verifier");
    assert!(unbounded.verify(&hs_token(&at(t, t + 10 * day))).is_ok());
    assert!(unbounded
        .verify(&hs_token(&without(claims(), "iat")))
        .is_ok());
    assert_eq!(
        unbounded.verify(&hs_token(&at(t + 3600, t + 4000))).err(),
        Some(AuthError::IssuedInFuture)
    );
}

#[test]
fn minting_respects_the_maximum_lifetime() {
    let config = hs_config().with_max_ttl_secs(3600);
    let signer = JwtSigner::new(&config).expect("signer");
    let verifier = JwtVerifier::new(&config).expect("verifier");
    let token = signer
        .mint("u", &[], false, HOUR)
        .expect("within the maximum");
    assert!(verifier.verify(&token).is_ok());
    let err = signer
        .mint("u", &[], false, HOUR + Duration::from_secs(1))
        .expect_err("above the maximum");
    assert_eq!(err, AuthError::TtlAboveMaximum { max_secs: 3600 });
    assert!(!err.is_unauthenticated());
}

#[test]
fn crit_header_is_refused() {
    let body = URL_SAFE_NO_PAD.encode(claims().to_string());
    for crit in [r#"["exp"]"#, r#"["b64"]"#, "[]", "null"] {
        let header =
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"HS256","typ":"JWT","crit":{crit}}}"#));
        let signing_input = format!("{header}.{body}");
        let signature = jsonwebtoken::crypto::sign(
            signing_input.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .expect("sign");
        let token = format!("{signing_input}.{signature}");
        let verifier = JwtVerifier::new(&hs_config()).expect("verifier");
        assert_eq!(
            verifier.verify(&token).err(),
            Some(AuthError::CriticalHeader),
            "crit {crit}"
        );
    }
}
