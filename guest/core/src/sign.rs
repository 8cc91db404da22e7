//! SigV4 signing (service `states`) with the `aws-sigv4` crate, the signer AWS maintains and
//! keeps in step with the services: this module only hands it our request and turns its
//! instructions back into headers.
//!
//! The request is always a POST to `/` with the awsJson1_0 content type, the host and the
//! operation's `x-amz-target`; aws-sigv4 adds `x-amz-date`, `authorization` and, with a
//! session token, `x-amz-security-token`, and signs all of them but itself. The body's
//! SHA-256 is taken once per call ([`Payload`]) and handed over precomputed, so a retry
//! signs at its own time without hashing a large input again.

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use sha2::{Digest, Sha256};

use crate::endpoint::Endpoint;
use crate::types::{Credentials, Error, FieldError, SignedRequest};
use crate::wire::CONTENT_TYPE;

/// The signing name of Step Functions (its endpoint prefix).
pub const SERVICE: &str = "states";

/// A request body with its SHA-256 (lowercase hex), the payload hash of every signature
/// of it.
pub struct Payload<'a> {
    body: &'a str,
    sha256: String,
}

impl<'a> Payload<'a> {
    pub fn new(body: &'a str) -> Self {
        Payload {
            body,
            sha256: hex::encode(Sha256::digest(body.as_bytes())),
        }
    }
}

/// Signs `payload`, a call of the operation `target`, for `endpoint` in `region` at `time`.
/// The signed headers are exactly
/// `content-type;host;x-amz-date[;x-amz-security-token];x-amz-target`; the headers come
/// in the order the shared vector pins: ours, then aws-sigv4's, then `content-length`.
pub fn sign_request(
    endpoint: &Endpoint,
    region: &str,
    target: &str,
    payload: &Payload<'_>,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<SignedRequest, Error> {
    let url = endpoint.url();
    let unsigned = [
        ("content-type", CONTENT_TYPE),
        ("host", endpoint.authority.as_str()),
        ("x-amz-target", target),
    ];
    let identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "sfn-core",
    )
    .into();
    // The defaults sign every header given and add no `x-amz-content-sha256`
    // (`PayloadChecksumKind::NoHeader`), as in the shared vector, botocore's.
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing_failed(&e))?
        .into();
    let body = SignableBody::Precomputed(payload.sha256.clone());
    let request = SignableRequest::new("POST", url.as_str(), unsigned.into_iter(), body)
        .map_err(|e| signing_failed(&e))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| signing_failed(&e))?
        .into_parts();
    let headers = unsigned
        .into_iter()
        .chain(instructions.headers())
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .chain([("content-length".into(), payload.body.len().to_string())])
        .collect();
    Ok(SignedRequest {
        method: "POST".into(),
        url,
        headers,
        body: payload.body.to_string(),
    })
}

/// Every value signed is checked beforehand (the key id, the token, the region, the
/// endpoint), so this is a defect: reported with aws-sigv4's reasons, never trapped on.
/// Its messages name what was wrong, never a value.
fn signing_failed(error: &(dyn std::error::Error + 'static)) -> Error {
    let reasons: Vec<String> = std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect();
    Error::InvalidConfig(vec![FieldError::new(
        "credentials",
        format!("the request could not be signed: {}", reasons.join(": ")),
    )])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition;

    /// The spec §2.8 vector (`tests/fixtures/sigv4-vector.json`), computed with botocore
    /// and an independent HMAC script.
    #[test]
    fn reproduces_the_botocore_vector() {
        let vector = sfn_test_kit::fixtures::sigv4_vector();
        let partition = partition::of_region(&vector.region).unwrap();
        let endpoint = crate::endpoint::standard(partition, &vector.region, false, false);
        let credentials = Credentials {
            access_key_id: vector.access_key_id.clone(),
            secret_access_key: vector.secret_access_key.clone(),
            session_token: None,
        };
        let target = crate::wire::START_EXECUTION;
        let signed = sign_request(
            &endpoint,
            &vector.region,
            target,
            &Payload::new(&vector.request.body),
            &credentials,
            vector.time(),
        );
        let expected = SignedRequest {
            method: vector.request.method,
            url: vector.request.url,
            headers: vector.request.headers,
            body: vector.request.body,
        };
        assert_eq!(signed, Ok(expected));
    }

    /// A small StartExecution in eu-west-1, signed with `secret` and `token`.
    fn signed_with_token(secret: &str, token: &str) -> SignedRequest {
        let partition = partition::of_region("eu-west-1").unwrap();
        let endpoint = crate::endpoint::standard(partition, "eu-west-1", false, false);
        let credentials = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: secret.into(),
            session_token: Some(token.into()),
        };
        let payload = Payload::new("{}");
        let target = crate::wire::START_EXECUTION;
        let signed = sign_request(
            &endpoint,
            "eu-west-1",
            target,
            &payload,
            &credentials,
            std::time::UNIX_EPOCH,
        );
        signed.unwrap()
    }

    /// With a session token: the token is signed and sent after the signature, and
    /// aws-sigv4 adds nothing else (no `x-amz-content-sha256` for a precomputed body).
    #[test]
    fn a_session_token_is_signed_and_nothing_else_is_added() {
        let signed = signed_with_token("secret", "token");
        let names: Vec<&str> = signed.headers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "host",
                "x-amz-target",
                "x-amz-date",
                "authorization",
                "x-amz-security-token",
                "content-length"
            ]
        );
        let (_, authorization) = &signed.headers[4];
        assert!(
            authorization.contains(
                "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,"
            ),
            "{authorization}"
        );
        assert_eq!(signed.headers[5].1, "token");
    }

    /// `Debug` shows every header but the session token's value.
    #[test]
    fn debug_withholds_the_session_token() {
        let signed = signed_with_token("S3CR3T-KEY", "T0K3N-VALUE");
        let shown = format!("{signed:?}");
        assert!(
            !shown.contains("T0K3N") && !shown.contains("S3CR3T"),
            "{shown}"
        );
        assert!(
            shown.contains(r#"("x-amz-security-token", "<redacted>")"#),
            "{shown}"
        );
        assert!(shown.contains("Signature="), "{shown}");
    }
}
