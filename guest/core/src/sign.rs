//! SigV4 signing of the request with the `aws-sigv4` crate (service `states`).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::endpoint::Endpoint;
use crate::types::{Credentials, Error, FieldError, SignedRequest};
use crate::wire::CONTENT_TYPE;

/// The signing name of Step Functions (its endpoint prefix).
pub const SERVICE: &str = "states";

/// Signs `body`, a call of the operation `target`, for `endpoint` in `region` at `time`.
/// The signed headers are exactly
/// `content-type;host;x-amz-date[;x-amz-security-token];x-amz-target`.
pub fn sign_request(
    endpoint: &Endpoint,
    region: &str,
    target: &str,
    body: String,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<SignedRequest, Error> {
    let url = endpoint.url();
    let unsigned = [
        ("content-type", CONTENT_TYPE),
        ("host", endpoint.authority.as_str()),
        ("x-amz-target", target),
    ];
    let identity: Identity = aws_credential_types::Credentials::new(
        &credentials.access_key_id,
        &credentials.secret_access_key,
        credentials.session_token.clone(),
        None,
        "client-options",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(signing_failed)?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        unsigned.into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(signing_failed)?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(signing_failed)?
        .into_parts();
    let mut headers: Vec<(String, String)> = unsigned
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    headers.extend(
        instructions
            .headers()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())),
    );
    headers.push(("content-length".into(), body.len().to_string()));
    Ok(SignedRequest {
        method: "POST".into(),
        url,
        headers,
        body,
    })
}

/// Inputs are checked before signing, so this is a defect, reported rather than trapped on.
fn signing_failed(e: impl std::fmt::Display) -> Error {
    Error::InvalidConfig(vec![FieldError::new(
        "credentials",
        format!("the request could not be signed: {e}"),
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
        let body = vector.request.body.clone();
        let target = crate::wire::START_EXECUTION;
        let signed = sign_request(
            &endpoint,
            &vector.region,
            target,
            body,
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
}
