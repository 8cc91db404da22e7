//! Secrets out of everything that comes back over the network. Whoever answers may echo the
//! request (AWS's `SignatureDoesNotMatch` quotes the canonical request, session token
//! included; a proxy may echo headers into its request id or an HTML page), so every text of
//! an answer loses the secret access key and the session token where it enters the core:
//! [`crate::client::Client`] scrubs the raw answer before it is parsed, then the parsed
//! value, before any of it is cut, stored or shown.

use std::borrow::Cow;

use crate::types::{Credentials, Error, Execution, Outcome, ServiceError};
use crate::wire::{Described, Response};

/// What stands in for a secret.
pub const REDACTED: &str = "***";

/// The texts that must never leave the component: non-empty, longest first, so that a
/// secret that holds another is replaced whole rather than around the shorter one.
pub struct Secrets<'a>(Vec<&'a str>);

impl Credentials {
    /// The secret access key and the session token.
    pub fn secrets(&self) -> Secrets<'_> {
        let given = [
            Some(self.secret_access_key.as_str()),
            self.session_token.as_deref(),
        ];
        let mut secrets: Vec<&str> = given
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect();
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Secrets(secrets)
    }
}

/// `text` with every occurrence of each secret replaced by [`REDACTED`]: the one scrubbing
/// function, under every [`Scrub`] impl. An occurrence may write any of the secret's
/// characters escaped (see [`escape`]), as a JSON, XML or HTML body would.
// Kept out of line: every text of every answer comes here, and one copy is smaller.
#[inline(never)]
pub fn scrub<'t>(text: &'t str, secrets: &Secrets<'_>) -> Cow<'t, str> {
    let mut text = Cow::Borrowed(text);
    for secret in &secrets.0 {
        if let Some(replaced) = replace_all(&text, secret) {
            text = Cow::Owned(replaced);
        }
    }
    text
}

/// `text` with every occurrence of `secret` replaced, or `None` when there is none.
fn replace_all(text: &str, secret: &str) -> Option<String> {
    let first = secret.chars().next()?;
    let may_start = |c: char| c == first || c == '\\' || c == '&';
    let (mut out, mut copied, mut at) = (None::<String>, 0, 0);
    while let Some((offset, c)) = text[at..].char_indices().find(|&(_, c)| may_start(c)) {
        let start = at + offset;
        at = start + c.len_utf8();
        if let Some(len) = occurrence(&text[start..], secret) {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            (copied, at) = (start + len, start + len);
        }
    }
    let mut out = out?;
    out.push_str(&text[copied..]);
    Some(out)
}

/// The length of the occurrence of `secret` that `text` begins with, if it does.
fn occurrence(text: &str, secret: &str) -> Option<usize> {
    let mut at = 0;
    for (i, c) in secret.char_indices() {
        let rest = &text[at..];
        let plain = rest.starts_with(c).then_some(c.len_utf8());
        let escaped = escape(rest).and_then(|(len, code)| (code == u32::from(c)).then_some(len));
        at += match (plain, escaped) {
            (Some(len), None) | (None, Some(len)) => len,
            (None, None) => return None,
            // A `\` or `&` of the secret, where an escape of itself begins: either reading
            // may be the one that goes on to the whole secret.
            (Some(plain), Some(escaped)) => {
                let after = &secret[i + c.len_utf8()..];
                let whole = |len: usize| occurrence(&rest[len..], after).map(|more| len + more);
                return whole(plain).or_else(|| whole(escaped)).map(|len| at + len);
            }
        };
    }
    Some(at)
}

/// Escapes written as a fixed text: JSON's short ones and XML's named entities.
const SHORT_ESCAPES: [(&str, char); 13] = [
    ("\\\"", '"'),
    ("\\\\", '\\'),
    ("\\/", '/'),
    ("\\b", '\u{8}'),
    ("\\f", '\u{c}'),
    ("\\n", '\n'),
    ("\\r", '\r'),
    ("\\t", '\t'),
    ("&lt;", '<'),
    ("&gt;", '>'),
    ("&amp;", '&'),
    ("&quot;", '"'),
    ("&apos;", '\''),
];

/// The length and character code of the escape `text` begins with, in every form the core's
/// parsers decode and an HTML page may use: JSON's (`\/`, `\u002F`), XML's named entities
/// (`&amp;`) and numeric character references (`&#47;`, `&#x2F;`). A UTF-16 surrogate pair
/// is not one: parsed values are scrubbed again for that.
fn escape(text: &str) -> Option<(usize, u32)> {
    if let Some((written, c)) = SHORT_ESCAPES.iter().find(|(w, _)| text.starts_with(w)) {
        return Some((written.len(), u32::from(*c)));
    }
    if let Some(rest) = text.strip_prefix("\\u") {
        return Some((6, number(rest.get(..4)?, 16)?));
    }
    character_reference(text.strip_prefix("&#")?).map(|(len, code)| (len + 2, code))
}

/// The length and code of `NNN;` or `xHH;`, what follows `&#`.
fn character_reference(text: &str) -> Option<(usize, u32)> {
    let (radix, skip, digits) = match text.strip_prefix(['x', 'X']) {
        Some(hex) => (16, 1, hex),
        None => (10, 0, text),
    };
    // Looked for among the first few bytes only: a reference is short.
    let end = digits.bytes().take(12).position(|b| b == b';')?;
    Some((skip + end + 1, number(&digits[..end], radix)?))
}

/// The value of one or more digits of `radix` (no sign, unlike `from_str_radix`).
fn number(digits: &str, radix: u32) -> Option<u32> {
    let value = |n: u32, c: char| n.checked_mul(radix)?.checked_add(c.to_digit(radix)?);
    digits
        .chars()
        .try_fold(0, value)
        .filter(|_| !digits.is_empty())
}

/// A value with every text it holds scrubbed.
pub trait Scrub {
    #[must_use]
    fn scrub(self, secrets: &Secrets<'_>) -> Self;
}

impl Scrub for String {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        // Edition 2024 drops the scrutinee's borrow of `self` before `else`.
        if let Cow::Owned(scrubbed) = scrub(&self, secrets) {
            scrubbed
        } else {
            self
        }
    }
}

impl<T: Scrub> Scrub for Option<T> {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        self.map(|value| value.scrub(secrets))
    }
}

/// Headers, names included, and the body: a body that is not UTF-8 is kept byte for byte
/// unless a secret shows in it, and then read as UTF-8 with replacement characters.
impl Scrub for Response {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        let Response {
            status,
            headers,
            body,
        } = self;
        let headers = headers
            .into_iter()
            .map(|(name, value)| (name.scrub(secrets), value.scrub(secrets)))
            .collect();
        let scrubbed = match scrub(&String::from_utf8_lossy(&body), secrets) {
            Cow::Owned(text) => Some(text.into_bytes()),
            Cow::Borrowed(_) => None,
        };
        Response {
            status,
            headers,
            body: scrubbed.unwrap_or(body),
        }
    }
}

impl Scrub for ServiceError {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        let ServiceError {
            status,
            code,
            message,
            request_id,
        } = self;
        ServiceError {
            status,
            code: code.scrub(secrets),
            message: message.scrub(secrets),
            request_id: request_id.scrub(secrets),
        }
    }
}

/// Field and credential errors are the core's own words, and name rules, never values.
impl Scrub for Error {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        match self {
            Error::Service(e) => Error::Service(e.scrub(secrets)),
            Error::Transport(m) => Error::Transport(m.scrub(secrets)),
            Error::InvalidResponse(m) => Error::InvalidResponse(m.scrub(secrets)),
            own @ (Error::InvalidConfig(_) | Error::MissingCredentials(_)) => own,
        }
    }
}

impl Scrub for Execution {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        let Execution {
            execution_arn,
            start_date_epoch_ms,
            request_id,
            attempts,
        } = self;
        Execution {
            execution_arn: execution_arn.scrub(secrets),
            start_date_epoch_ms,
            request_id: request_id.scrub(secrets),
            attempts,
        }
    }
}

impl Scrub for Outcome {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        let Outcome {
            execution_arn,
            status,
            start_date_epoch_ms,
            stop_date_epoch_ms,
            output,
            error,
            cause,
            billing,
            request_id,
            attempts,
        } = self;
        Outcome {
            execution_arn: execution_arn.scrub(secrets),
            status: status.scrub(secrets),
            start_date_epoch_ms,
            stop_date_epoch_ms,
            output: output.scrub(secrets),
            error: error.scrub(secrets),
            cause: cause.scrub(secrets),
            billing,
            request_id: request_id.scrub(secrets),
            attempts,
        }
    }
}

/// The input too: it is only compared with the caller's, and one holding a secret then
/// differs, which reports a conflict rather than claiming someone else's execution.
impl Scrub for Described {
    fn scrub(self, secrets: &Secrets<'_>) -> Self {
        let Described {
            outcome,
            input,
            answered,
        } = self;
        Described {
            outcome: outcome.scrub(secrets),
            input: input.scrub(secrets),
            answered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::SendError;
    use crate::io::scripted::Scripted;
    use crate::types::{ClientOptions, Failure, StartExecutionConfig};
    use crate::wire::SNIPPET_CHARS;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const TOKEN: &str = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+EXAMPLE=";
    const ARN: &str = "arn:aws:states:us-east-1:123456789012:stateMachine:M";
    const EXECUTION: &str = "arn:aws:states:us-east-1:123456789012:execution:M:n";

    fn options() -> ClientOptions {
        ClientOptions {
            credentials: Some(Credentials {
                access_key_id: "ASIAEXAMPLE".into(),
                secret_access_key: SECRET.into(),
                session_token: Some(TOKEN.into()),
            }),
            max_attempts: Some(1),
            ..ClientOptions::default()
        }
    }

    fn answer(status: u16, request_id: &str, body: &str) -> Result<Response, SendError> {
        Ok(Response {
            status,
            headers: vec![("x-amzn-RequestId".into(), request_id.into())],
            body: body.as_bytes().to_vec(),
        })
    }

    /// `text` with every `/` and `+` escaped as some JSON writers do.
    fn escaped(text: &str) -> String {
        text.replace('/', "\\/").replace('+', "\\u002b")
    }

    /// `text` with every `/`, `+` and `=` a character reference, as some HTML writers do.
    fn referenced(text: &str) -> String {
        text.replace('/', "&#x2F;")
            .replace('+', "&#43;")
            .replace('=', "&#61;")
    }

    /// Neither secret, nor any eight characters of one (what a cut would leave), shows in
    /// `shown`.
    fn assert_clean(shown: &str) {
        for secret in [SECRET, TOKEN] {
            for piece in secret.as_bytes().windows(8) {
                let piece = std::str::from_utf8(piece).unwrap();
                assert!(!shown.contains(piece), "{piece:?} in {shown}");
            }
        }
    }

    fn start_with(answer: Result<Response, SendError>) -> Result<crate::Execution, Failure> {
        let config = StartExecutionConfig {
            state_machine_arn: ARN.into(),
            name: Some("n".into()),
            ..StartExecutionConfig::default()
        };
        let mut io = Scripted::new([answer]);
        crate::start(&config, &options(), &|_| None, &mut io)
    }

    fn assert_failure_clean(answer: Result<Response, SendError>) -> Failure {
        let failure = start_with(answer).unwrap_err();
        assert_clean(&format!("{failure:?}"));
        assert_clean(&failure.error.to_string());
        failure
    }

    #[test]
    fn a_body_of_any_type_is_scrubbed_before_it_is_cut() {
        for secret in [SECRET, TOKEN] {
            // The cut falls ten characters into the secret.
            let text = format!("{}{secret} and more", "x".repeat(SNIPPET_CHARS - 10));
            let html = format!("<html><body><p>{}</p></body></html>", referenced(&text));
            for body in [&text, &escaped(&text), &html] {
                for status in [400, 200] {
                    let failure = assert_failure_clean(answer(status, secret, body));
                    let shown = failure.error.to_string();
                    let kept = format!("{}{REDACTED}", "x".repeat(9));
                    assert!(shown.contains(&kept), "{shown}");
                }
            }
        }
    }

    #[test]
    fn json_xml_and_header_texts_are_scrubbed_even_when_escaped() {
        let json = format!(
            r#"{{"__type":"AccessDenied{SECRET}","message":"token {} and key {}, raw {TOKEN}"}}"#,
            escaped(TOKEN),
            escaped(SECRET)
        );
        let failure = assert_failure_clean(answer(403, TOKEN, &json));
        let Error::Service(e) = failure.error else {
            panic!("{failure:?}")
        };
        assert_eq!(e.message, "token *** and key ***, raw ***");
        assert_eq!(e.request_id.as_deref(), Some(REDACTED));
        let xml = format!(
            "<Error><Code>SignatureDoesNotMatch</Code><Message>had x-amz-security-token:{TOKEN}</Message><RequestId>{SECRET}</RequestId></Error>"
        );
        assert_failure_clean(answer(403, "", &xml));
        // serde's own words quote the parsed text.
        let quoted = format!(r#"{{"executionArn":"a","startDate":"{}"}}"#, escaped(TOKEN));
        assert_failure_clean(answer(200, "r", &quoted));
        // So may the runtime's, on a failed exchange.
        assert_failure_clean(Err(SendError::Permanent(format!("refused {TOKEN}"))));
    }

    #[test]
    fn a_started_execution_is_scrubbed() {
        let body = format!(
            r#"{{"executionArn":"{EXECUTION}{}","startDate":1800000000}}"#,
            escaped(SECRET)
        );
        let execution = start_with(answer(200, TOKEN, &body)).unwrap();
        assert_clean(&format!("{execution:?}"));
        assert_eq!(execution.execution_arn, format!("{EXECUTION}{REDACTED}"));
    }

    #[test]
    fn describe_scrubs_output_error_cause_and_request_id() {
        let described = serde_json::json!({
            "executionArn": EXECUTION,
            "status": "FAILED",
            "startDate": 1_800_000_000,
            "input": format!("{{\"key\":\"{SECRET}\"}}"),
            "output": format!("{{\"token\":\"{TOKEN}\"}}"),
            "error": format!("Denied.{TOKEN}"),
            "cause": format!("{} long after {SECRET}", "y".repeat(400)),
        });
        let body = escaped(&described.to_string());
        let mut io = Scripted::new([answer(200, SECRET, &body)]);
        let outcome = crate::describe(EXECUTION, &options(), &|_| None, &mut io).unwrap();
        assert_clean(&format!("{outcome:?}"));
        assert_eq!(outcome.error.as_deref(), Some("Denied.***"));
        assert_eq!(outcome.output.as_deref(), Some(r#"{"token":"***"}"#));
        assert_eq!(outcome.request_id.as_deref(), Some(REDACTED));
    }

    #[test]
    fn a_secret_of_any_characters_is_found_however_it_is_written() {
        let odd = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "k<&>\"'\\/\n\u{1F600}z".into(),
            session_token: None,
        };
        let secrets = odd.secrets();
        for written in [
            "k<&>\"'\\/\n\u{1F600}z",
            "k&lt;&amp;&gt;&quot;&apos;\\\\\\/\\n\u{1F600}z",
            "&#107;&#x3C;&#X26;\\u003e\\u0022'&#92;&#47;&#10;&#x1F600;\\u007A",
        ] {
            let text = format!("a {written} b {written}");
            assert_eq!(scrub(&text, &secrets), "a *** b ***", "{written}");
        }
        for near in ["k<&>", "k&lt;&amp;&gt;&quot;&apos;\\\\\\/\\n", "&#107 <"] {
            assert_eq!(scrub(near, &secrets), near);
        }
        // A surrogate pair is only decoded by the parser: the parsed message is scrubbed.
        let json = r#"{"__type":"X","message":"k<&>\"'\\\/\n\ud83d\ude00z"}"#;
        let config = StartExecutionConfig {
            state_machine_arn: ARN.into(),
            ..StartExecutionConfig::default()
        };
        let options = ClientOptions {
            credentials: Some(odd),
            max_attempts: Some(1),
            ..ClientOptions::default()
        };
        let mut io = Scripted::new([answer(400, "r", json)]);
        let failure = crate::start(&config, &options, &|_| None, &mut io).unwrap_err();
        assert_eq!(failure.error.to_string(), "X: *** (HTTP 400)");
    }

    #[test]
    fn a_raw_answer_is_scrubbed_header_by_header_and_in_its_body() {
        let secrets = options().credentials.unwrap();
        let secrets = secrets.secrets();
        let received = Response {
            status: 403,
            headers: vec![
                ("x-amzn-RequestId".into(), format!("id-{TOKEN}")),
                (format!("x-echo-{SECRET}"), "v".into()),
            ],
            body: format!("<p>{}</p>", referenced(TOKEN)).into_bytes(),
        };
        let scrubbed = received.scrub(&secrets);
        assert_eq!(
            scrubbed.headers,
            [
                ("x-amzn-RequestId".into(), "id-***".into()),
                ("x-echo-***".into(), "v".into())
            ]
        );
        assert_eq!(scrubbed.body, b"<p>***</p>");
        // A body that is not UTF-8 and holds no secret is kept byte for byte.
        let binary = Response {
            status: 500,
            headers: Vec::new(),
            body: vec![0xff, b'*', 0xfe],
        };
        assert_eq!(binary.clone().scrub(&secrets), binary);
    }

    #[test]
    fn a_secret_inside_another_is_replaced_with_it() {
        let credentials = Credentials {
            access_key_id: "A".into(),
            secret_access_key: "inner".into(),
            session_token: Some("outer-inner-outer".into()),
        };
        let secrets = credentials.secrets();
        assert_eq!(
            scrub("a outer-inner-outer b inner", &secrets),
            "a *** b ***"
        );
        let none = Credentials {
            session_token: Some(String::new()),
            ..credentials
        };
        assert_eq!(scrub("a b", &none.secrets()), "a b");
    }
}
