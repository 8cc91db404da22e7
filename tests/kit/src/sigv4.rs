//! An independent AWS Signature Version 4 verifier for the Step Functions stand-in.
//!
//! Written from the AWS spec with hmac, sha2 and hex only, never with the core's signer
//! (`aws-sigv4`, through `sfn_core::sign`): a verifier that shared SigV4 code with the
//! signer could share its bugs too, and would then accept a wrongly signed request. The
//! hash and MAC crates are the signer's own versions, so the build has one of each.
//!
//! Error messages name the exact cause but never contain a secret access key or a
//! session token, so test output can be pasted anywhere.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";
const TOKEN_HEADER: &str = "x-amz-security-token";
const REDACTED: &str = "<redacted>";

/// A key pair the stand-in accepts, with the session token issued alongside it, if any.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl Credential {
    pub fn new(access_key_id: &str, secret_access_key: &str) -> Credential {
        Credential {
            access_key_id: access_key_id.to_owned(),
            secret_access_key: secret_access_key.to_owned(),
            session_token: None,
        }
    }

    pub fn with_session_token(mut self, session_token: &str) -> Credential {
        self.session_token = Some(session_token.to_owned());
        self
    }
}

// Hand-written so that a `{:?}` in a failing assertion cannot print the secrets.
impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &REDACTED)
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| REDACTED),
            )
            .finish()
    }
}

/// The credential scope of a request that verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub access_key_id: String,
    /// YYYYMMDD
    pub date: String,
    pub region: String,
    pub service: String,
}

struct Authorization {
    scope: Scope,
    signed_headers: Vec<String>,
    signature: String,
}

/// Verifies the SigV4 signature of a request whose query string is empty.
///
/// `path` is the path as sent on the wire. Header names may be in any case. With
/// `max_skew`, an `x-amz-date` further than that from `now` is rejected.
pub fn verify(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &[Credential],
    now: SystemTime,
    max_skew: Option<Duration>,
) -> Result<Scope, String> {
    verify_unredacted(method, path, headers, body, creds, now, max_skew)
        .map_err(|message| redact(message, headers, creds))
}

fn verify_unredacted(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    creds: &[Credential],
    now: SystemTime,
    max_skew: Option<Duration>,
) -> Result<Scope, String> {
    let value = header(headers, "authorization").ok_or("missing authorization header")?;
    let auth = parse_authorization(&value)?;
    let cred = find_credential(creds, &auth.scope.access_key_id)?;
    let amz_date = check_date(headers, &auth.scope, now, max_skew)?;
    check_signed_headers(&auth.signed_headers, headers)?;
    check_session_token(headers, cred)?;
    let signed: Vec<&str> = auth.signed_headers.iter().map(String::as_str).collect();
    let canonical = canonical_request(method, path, headers, &signed, body);
    let expected = signature(&cred.secret_access_key, &auth.scope, &amz_date, &canonical);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(format!(
            "signature mismatch: expected {expected} got {}; canonical request was:\n{canonical}\n\
             string to sign was:\n{}",
            auth.signature,
            string_to_sign(&amz_date, &auth.scope, &canonical)
        ));
    }
    Ok(auth.scope)
}

/// Removes every secret and token the stand-in knows of, and the request's own token,
/// from a message: a client bug could echo one into a header, and headers end up in the
/// canonical request that a mismatch message prints.
fn redact(mut message: String, headers: &[(String, String)], creds: &[Credential]) -> String {
    let sent_token = header(headers, TOKEN_HEADER);
    let secrets = creds
        .iter()
        .flat_map(|c| [Some(&c.secret_access_key), c.session_token.as_ref()])
        .flatten()
        .chain(sent_token.as_ref());
    for secret in secrets {
        // An empty pattern would match between every character.
        if !secret.is_empty() {
            message = message.replace(secret.as_str(), REDACTED);
        }
    }
    message
}

fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .strip_prefix(ALGORITHM)
        .and_then(|rest| rest.strip_prefix(' '))
        .ok_or_else(|| format!("authorization header must start with \"{ALGORITHM} \""))?;
    let [credential, signed_headers, signature] = authorization_fields(rest)?;
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return Err(format!(
            "signature must be 64 lowercase hex digits, got {signature:?}"
        ));
    }
    Ok(Authorization {
        scope: parse_scope(credential)?,
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// Splits `Credential=..., SignedHeaders=..., Signature=...` (in any order) into those three.
fn authorization_fields(rest: &str) -> Result<[&str; 3], String> {
    const NAMES: [&str; 3] = ["Credential", "SignedHeaders", "Signature"];
    let mut fields = [None; 3];
    for part in rest.split(',').map(str::trim) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| format!("malformed authorization component {part:?}"))?;
        let index = NAMES
            .iter()
            .position(|known| *known == name)
            .ok_or_else(|| format!("unexpected authorization component {name:?}"))?;
        if fields[index].replace(value).is_some() {
            return Err(format!("duplicate {name} in authorization header"));
        }
    }
    let mut found = [""; 3];
    for (index, field) in fields.into_iter().enumerate() {
        found[index] =
            field.ok_or_else(|| format!("authorization header has no {}", NAMES[index]))?;
    }
    Ok(found)
}

fn parse_scope(credential: &str) -> Result<Scope, String> {
    let parts: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = parts[..] else {
        return Err(format!(
            "credential must be AKID/YYYYMMDD/REGION/SERVICE/{TERMINATOR}, got {credential:?}"
        ));
    };
    if terminator != TERMINATOR {
        return Err(format!(
            "credential scope must end in {TERMINATOR}, got {terminator:?}"
        ));
    }
    if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "credential scope date must be YYYYMMDD, got {date:?}"
        ));
    }
    if [access_key_id, region, service].contains(&"") {
        return Err(format!("credential {credential:?} has an empty component"));
    }
    Ok(Scope {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
    })
}

fn find_credential<'a>(
    creds: &'a [Credential],
    access_key_id: &str,
) -> Result<&'a Credential, String> {
    creds
        .iter()
        .find(|c| c.access_key_id == access_key_id)
        .ok_or_else(|| format!("unknown access key id {access_key_id}"))
}

/// Checks `x-amz-date` against the scope and the clock; returns it.
fn check_date(
    headers: &[(String, String)],
    scope: &Scope,
    now: SystemTime,
    max_skew: Option<Duration>,
) -> Result<String, String> {
    let amz_date = header(headers, "x-amz-date").ok_or("missing x-amz-date header")?;
    let time = parse_amz_date(&amz_date)?;
    if !amz_date.starts_with(&scope.date) {
        return Err(format!(
            "credential scope date {} does not match x-amz-date {amz_date}",
            scope.date
        ));
    }
    if let Some(max) = max_skew {
        let skew = now.duration_since(time).unwrap_or_else(|e| e.duration());
        if skew > max {
            return Err(format!(
                "request time {amz_date} is more than {} s away from the server clock ({})",
                max.as_secs(),
                amz_date_of(now)
            ));
        }
    }
    Ok(amz_date)
}

fn check_signed_headers(signed: &[String], headers: &[(String, String)]) -> Result<(), String> {
    if let Some(name) = signed
        .iter()
        .find(|n| n.is_empty() || **n != n.to_ascii_lowercase())
    {
        return Err(format!(
            "signed header {name:?} is not a lowercase header name"
        ));
    }
    if signed.windows(2).any(|pair| pair[0] >= pair[1]) {
        return Err(format!(
            "signed headers {} are not sorted and unique",
            signed.join(";")
        ));
    }
    // `host` and `x-amz-date` always; `content-type` and every `x-amz-*` header whenever
    // the request has one: an unsigned one could be changed on the way.
    let mut required = vec!["host".to_owned(), "x-amz-date".to_owned()];
    for (name, _) in headers {
        let name = name.to_ascii_lowercase();
        if (name == "content-type" || name.starts_with("x-amz-")) && !required.contains(&name) {
            required.push(name);
        }
    }
    if let Some(missing) = required.iter().find(|r| !signed.iter().any(|s| s == *r)) {
        return Err(format!("signed headers must include {missing}"));
    }
    match signed.iter().find(|name| header(headers, name).is_none()) {
        Some(name) => Err(format!(
            "signed header {name} is not present in the request"
        )),
        None => Ok(()),
    }
}

fn check_session_token(headers: &[(String, String)], cred: &Credential) -> Result<(), String> {
    let akid = &cred.access_key_id;
    match (header(headers, TOKEN_HEADER), &cred.session_token) {
        (None, None) => Ok(()),
        (Some(sent), Some(issued)) if constant_time_eq(sent.as_bytes(), issued.as_bytes()) => {
            Ok(())
        }
        (Some(_), Some(_)) => Err(format!(
            "{TOKEN_HEADER} does not match the session token issued for {akid}"
        )),
        (None, Some(_)) => Err(format!(
            "missing {TOKEN_HEADER}: access key id {akid} was issued with a session token"
        )),
        (Some(_), None) => Err(format!(
            "unexpected {TOKEN_HEADER}: access key id {akid} was issued without a session token"
        )),
    }
}

/// All values of a header, case-insensitively, joined by commas as SigV4 canonicalises
/// a repeated header.
fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(","))
}

/// The SigV4 canonical request, signing `signed_headers` (lowercase, sorted) and an
/// empty query string.
pub fn canonical_request(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    signed_headers: &[&str],
    body: &[u8],
) -> String {
    let mut out = format!("{method}\n{}\n\n", canonical_uri(path));
    for name in signed_headers {
        let value = header(headers, name).unwrap_or_default();
        out.push_str(name);
        out.push(':');
        out.push_str(&value.split_whitespace().collect::<Vec<_>>().join(" "));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(body)));
    out
}

/// URI-encodes the path once more, as every service but S3 expects: `/` stays, and so
/// do unreserved characters.
fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn string_to_sign(amz_date: &str, scope: &Scope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{}/{}/{}/{TERMINATOR}\n{}",
        scope.date,
        scope.region,
        scope.service,
        hex::encode(Sha256::digest(canonical_request))
    )
}

/// The hex signature of a canonical request.
pub fn signature(
    secret_access_key: &str,
    scope: &Scope,
    amz_date: &str,
    canonical_request: &str,
) -> String {
    let k_date = hmac(
        format!("AWS4{secret_access_key}").as_bytes(),
        scope.date.as_bytes(),
    );
    let k_region = hmac(&k_date, scope.region.as_bytes());
    let k_service = hmac(&k_region, scope.service.as_bytes());
    let k_signing = hmac(&k_service, TERMINATOR.as_bytes());
    let to_sign = string_to_sign(amz_date, scope, canonical_request);
    hex::encode(hmac(&k_signing, to_sign.as_bytes()))
}

/// The `Authorization` value that signs every header in `headers` (which must hold
/// `host` and `x-amz-date`), for test clients that build requests by hand.
pub fn authorization(
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
    cred: &Credential,
    region: &str,
    service: &str,
) -> String {
    let amz_date = header(headers, "x-amz-date").expect("headers must hold x-amz-date");
    let mut names: Vec<String> = headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let signed: Vec<&str> = names.iter().map(String::as_str).collect();
    let scope = Scope {
        access_key_id: cred.access_key_id.clone(),
        date: amz_date.chars().take(8).collect(),
        region: region.to_owned(),
        service: service.to_owned(),
    };
    let canonical = canonical_request(method, path, headers, &signed, body);
    format!(
        "{ALGORITHM} Credential={}/{}/{region}/{service}/{TERMINATOR}, SignedHeaders={}, Signature={}",
        cred.access_key_id,
        scope.date,
        signed.join(";"),
        signature(&cred.secret_access_key, &scope, &amz_date, &canonical)
    )
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `YYYYMMDDTHHMMSSZ` for a time (UTC, whole seconds).
pub fn amz_date_of(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Parses `YYYYMMDDTHHMMSSZ`.
pub fn parse_amz_date(value: &str) -> Result<SystemTime, String> {
    let bad = || format!("x-amz-date {value:?} is not YYYYMMDDTHHMMSSZ");
    let b = value.as_bytes();
    let digits_ok = b.len() == 16
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 8 | 15) || c.is_ascii_digit());
    if !digits_ok || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| value[range].parse::<i64>().expect("checked digits");
    let days = days_from_civil(num(0..4), num(4..6), num(6..8));
    let secs = days * 86_400 + num(9..11) * 3600 + num(11..13) * 60 + num(13..15);
    let time = UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).map_err(|_| bad())?);
    // The arithmetic accepts 20150231 or 25:00; only a real time formats back the same.
    if amz_date_of(time) != value {
        return Err(bad());
    }
    Ok(time)
}

// Howard Hinnant's days-from-civil algorithms (proleptic Gregorian, UTC).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const AMZ_DATE: &str = "20150830T123600Z";
    const BODY: &str = r#"{"stateMachineArn":"arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld","input":"{}"}"#;
    const SIGNATURE: &str = "fff5eb1a3f853c5547d172672124b66196a5ee67921ea6e7199dd41728bc02ea";
    const SIGNED: &str = "content-type;host;x-amz-date;x-amz-target";

    fn cred() -> Credential {
        Credential::new(AKID, SECRET)
    }

    /// The names above are the shared vector's (`tests/fixtures/sigv4-vector.json`), and
    /// the verifier accepts that request exactly as the fixture gives it.
    #[test]
    fn the_shared_vector_verifies() {
        let vector = crate::fixtures::sigv4_vector();
        assert_eq!(
            (AKID, SECRET),
            (&*vector.access_key_id, &*vector.secret_access_key)
        );
        assert_eq!(
            (BODY, AMZ_DATE),
            (&*vector.request.body, vector.header("x-amz-date"))
        );
        assert_eq!(vector_headers()[4].1, vector.header("authorization"));
        let headers: Vec<(String, String)> = vector.request.headers.clone();
        let credential = Credential::new(&vector.access_key_id, &vector.secret_access_key);
        let scope = verify(
            &vector.request.method,
            "/",
            &headers,
            vector.request.body.as_bytes(),
            &[credential],
            vector.time(),
            Some(Duration::from_secs(1)),
        );
        assert_eq!(scope.map(|s| s.region), Ok(vector.region));
    }

    /// The request botocore signed, with header names in mixed case as a client may send them.
    fn unsigned_headers(amz_date: &str) -> Vec<(String, String)> {
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Host", "states.us-east-1.amazonaws.com"),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Target", "AWSStepFunctions.StartExecution"),
        ]
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
    }

    fn with_auth(mut headers: Vec<(String, String)>, auth: String) -> Vec<(String, String)> {
        headers.push(("Authorization".to_owned(), auth));
        headers
    }

    fn vector_headers() -> Vec<(String, String)> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/20150830/us-east-1/states/aws4_request, \
             SignedHeaders={SIGNED}, Signature={SIGNATURE}"
        );
        with_auth(unsigned_headers(AMZ_DATE), auth)
    }

    /// Signs `headers` (plus the vector's) with our own signer for a case the vector lacks.
    fn self_signed(extra: &[(&str, &str)], signer: &Credential) -> Vec<(String, String)> {
        let mut headers = unsigned_headers(AMZ_DATE);
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        let auth = authorization(
            "POST",
            "/",
            &headers,
            BODY.as_bytes(),
            signer,
            "us-east-1",
            "states",
        );
        with_auth(headers, auth)
    }

    fn at(amz_date: &str) -> SystemTime {
        parse_amz_date(amz_date).unwrap()
    }

    fn run(
        headers: &[(String, String)],
        body: &str,
        creds: &[Credential],
    ) -> Result<Scope, String> {
        let skew = Some(Duration::from_secs(900));
        verify(
            "POST",
            "/",
            headers,
            body.as_bytes(),
            creds,
            at(AMZ_DATE),
            skew,
        )
    }

    /// Asserts a rejection that names `cause` and leaks neither secrets nor tokens.
    fn assert_rejected(result: Result<Scope, String>, cause: &str) {
        let message = result.expect_err("request should be rejected");
        assert!(
            message.contains(cause),
            "{message:?} should mention {cause:?}"
        );
        for secret in [SECRET, "wrong-secret", "issued-token", "other-token"] {
            assert!(!message.contains(secret), "{message:?} leaks {secret:?}");
        }
    }

    #[test]
    fn reproduces_botocore_vector() {
        assert_eq!(BODY.len(), 96);
        let headers = vector_headers();
        let signed: Vec<&str> = SIGNED.split(';').collect();
        let canonical = canonical_request("POST", "/", &headers, &signed, BODY.as_bytes());
        assert!(
            canonical
                .ends_with("\nc5f7d346ab053ba59f10a445b31044e54523a4568e8ae0069b2cda4152083860")
        );
        assert_eq!(
            hex::encode(Sha256::digest(&canonical)),
            "641de3bf4cc38290ac915cb79daa4dd4375cba797f8bc63019da5789c0fa386c"
        );
        let scope = run(&headers, BODY, &[cred()]).unwrap();
        let expected = Scope {
            access_key_id: AKID.into(),
            date: "20150830".into(),
            region: "us-east-1".into(),
            service: "states".into(),
        };
        assert_eq!(scope, expected);
        assert_eq!(signature(SECRET, &scope, AMZ_DATE, &canonical), SIGNATURE);
    }

    #[test]
    fn authorization_helper_matches_vector() {
        let auth = authorization(
            "POST",
            "/",
            &unsigned_headers(AMZ_DATE),
            BODY.as_bytes(),
            &cred(),
            "us-east-1",
            "states",
        );
        assert_eq!(header(&vector_headers(), "authorization").unwrap(), auth);
    }

    #[test]
    fn rejects_tampered_body() {
        let body = BODY.replace("HelloWorld", "GoodbyeWorld");
        let message = run(&vector_headers(), &body, &[cred()]).unwrap_err();
        assert!(
            message.starts_with("signature mismatch: expected "),
            "{message}"
        );
        assert!(
            message.contains(&format!("got {SIGNATURE}; canonical request was:")),
            "{message}"
        );
        assert!(!message.contains(SECRET), "{message}");
    }

    #[test]
    fn rejects_wrong_secret() {
        let result = run(
            &vector_headers(),
            BODY,
            &[Credential::new(AKID, "wrong-secret")],
        );
        assert_rejected(result, "signature mismatch");
    }

    #[test]
    fn rejects_unknown_key() {
        let result = run(
            &vector_headers(),
            BODY,
            &[Credential::new("AKIDOTHER", SECRET)],
        );
        assert_rejected(result, "unknown access key id AKIDEXAMPLE");
    }

    #[test]
    fn rejects_missing_authorization() {
        assert_rejected(
            run(&unsigned_headers(AMZ_DATE), BODY, &[cred()]),
            "missing authorization header",
        );
    }

    #[test]
    fn rejects_host_not_signed() {
        let mut headers = vector_headers();
        let auth = &mut headers.last_mut().unwrap().1;
        *auth = auth.replace("content-type;host;", "content-type;");
        assert_rejected(
            run(&headers, BODY, &[cred()]),
            "signed headers must include host",
        );
    }

    #[test]
    fn rejects_content_type_or_target_not_signed() {
        for (signed, missing) in [("content-type;host;", "host;"), (";x-amz-target", "")] {
            let mut headers = vector_headers();
            let auth = &mut headers.last_mut().unwrap().1;
            *auth = auth.replace(signed, missing);
            let cause = if signed.contains("content-type") {
                "signed headers must include content-type"
            } else {
                "signed headers must include x-amz-target"
            };
            assert_rejected(run(&headers, BODY, &[cred()]), cause);
        }
        // Any other x-amz- header a client adds must be signed too.
        let mut headers = vector_headers();
        headers.push(("X-Amz-Meta".into(), "unsigned".into()));
        assert_rejected(
            run(&headers, BODY, &[cred()]),
            "signed headers must include x-amz-meta",
        );
    }

    #[test]
    fn rejects_scope_date_other_than_x_amz_date() {
        let headers = with_auth(
            unsigned_headers("20150831T123600Z"),
            header(&vector_headers(), "authorization").unwrap(),
        );
        let result = verify(
            "POST",
            "/",
            &headers,
            BODY.as_bytes(),
            &[cred()],
            at(AMZ_DATE),
            None,
        );
        assert_rejected(
            result,
            "credential scope date 20150830 does not match x-amz-date 20150831T123600Z",
        );
    }

    #[test]
    fn rejects_missing_session_token() {
        let issued = cred().with_session_token("issued-token");
        assert_rejected(
            run(&vector_headers(), BODY, &[issued]),
            "missing x-amz-security-token",
        );
    }

    #[test]
    fn rejects_mismatched_session_token() {
        let headers = self_signed(&[("X-Amz-Security-Token", "other-token")], &cred());
        let issued = cred().with_session_token("issued-token");
        let result = run(&headers, BODY, &[issued]);
        assert_rejected(
            result,
            "x-amz-security-token does not match the session token issued for AKIDEXAMPLE",
        );
    }

    #[test]
    fn accepts_matching_session_token() {
        let headers = self_signed(&[("x-amz-security-token", "issued-token")], &cred());
        let issued = cred().with_session_token("issued-token");
        assert_eq!(run(&headers, BODY, &[issued]).unwrap().access_key_id, AKID);
    }

    #[test]
    fn rejects_unexpected_session_token() {
        let headers = self_signed(&[("x-amz-security-token", "other-token")], &cred());
        assert_rejected(
            run(&headers, BODY, &[cred()]),
            "unexpected x-amz-security-token",
        );
    }

    #[test]
    fn rejects_unsigned_session_token() {
        let mut headers = vector_headers();
        headers.push(("x-amz-security-token".into(), "issued-token".into()));
        let issued = cred().with_session_token("issued-token");
        assert_rejected(
            run(&headers, BODY, &[issued]),
            "signed headers must include x-amz-security-token",
        );
    }

    #[test]
    fn mismatch_message_redacts_token_and_secret() {
        // A client bug that echoes the stand-in's secret into a signed header must not
        // leak it through the printed canonical request either.
        let leak = [
            ("x-amz-security-token", "issued-token"),
            ("x-leak", "wrong-secret"),
        ];
        let headers = self_signed(&leak, &cred());
        let issued = Credential::new(AKID, "wrong-secret").with_session_token("issued-token");
        assert_rejected(
            run(&headers, BODY, &[issued]),
            "x-amz-security-token:<redacted>",
        );
    }

    #[test]
    fn rejects_skew_beyond_limit_only() {
        let headers = vector_headers();
        let skew = Some(Duration::from_secs(900));
        let late = at("20150830T125101Z");
        let result = verify(
            "POST",
            "/",
            &headers,
            BODY.as_bytes(),
            &[cred()],
            late,
            skew,
        );
        assert_rejected(
            result,
            "request time 20150830T123600Z is more than 900 s away from the server clock",
        );
        let early = at("20150830T122100Z");
        assert!(
            verify(
                "POST",
                "/",
                &headers,
                BODY.as_bytes(),
                &[cred()],
                early,
                skew
            )
            .is_ok()
        );
        assert!(
            verify(
                "POST",
                "/",
                &headers,
                BODY.as_bytes(),
                &[cred()],
                late,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn amz_dates_round_trip_and_reject_nonsense() {
        assert_eq!(
            amz_date_of(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
            AMZ_DATE
        );
        assert_eq!(amz_date_of(at("20240229T235959Z")), "20240229T235959Z");
        for bad in [
            "20150230T000000Z",
            "20150830T243600Z",
            "20150830 123600Z",
            "2015-08-30",
        ] {
            assert!(parse_amz_date(bad).is_err(), "{bad} should be rejected");
        }
    }
}
