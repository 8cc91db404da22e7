//! SigV4 signing of the request with the `aws-sigv4` crate (service `states`).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::credentials::Credentials;
use crate::endpoint::Endpoint;
use crate::error::{Error, FieldError};
use crate::wire::{CONTENT_TYPE, TARGET};

/// The signing name of Step Functions (its endpoint prefix).
pub const SERVICE: &str = "states";

/// A request ready to send: every header, `host` and `content-length` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Signs `body` for `endpoint` in `region` at `time`. The signed headers are exactly
/// `content-type;host;x-amz-date[;x-amz-security-token];x-amz-target`.
pub fn sign_request(
    endpoint: &Endpoint,
    region: &str,
    body: String,
    credentials: &Credentials,
    time: SystemTime,
) -> Result<SignedRequest, Error> {
    let url = endpoint.url();
    let unsigned = [
        ("content-type", CONTENT_TYPE),
        ("host", endpoint.authority.as_str()),
        ("x-amz-target", TARGET),
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
    use std::time::{Duration, UNIX_EPOCH};

    /// The spec §2.8 vector, computed with botocore and an independent HMAC script.
    #[test]
    fn reproduces_the_botocore_vector() {
        let endpoint =
            crate::endpoint::standard(partition::by_id("aws").unwrap(), "us-east-1", false, false);
        let credentials = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let body = r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{}"}"#;
        let time = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
        let signed = sign_request(&endpoint, "us-east-1", body.into(), &credentials, time).unwrap();
        let headers: Vec<(&str, &str)> = signed
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            headers,
            [
                ("content-type", "application/x-amz-json-1.0"),
                ("host", "states.us-east-1.amazonaws.com"),
                ("x-amz-target", "AWSStepFunctions.StartExecution"),
                ("x-amz-date", "20150830T123600Z"),
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/states/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=fff5eb1a3f853c5547d172672124b66196a5ee67921ea6e7199dd41728bc02ea"
                ),
                ("content-length", "96"),
            ]
        );
        assert_eq!(signed.url, "https://states.us-east-1.amazonaws.com/");
        assert_eq!(signed.method, "POST");
    }
}
