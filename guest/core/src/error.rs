//! Behaviour of the error types of `types`: construction, display and scrubbing of secrets.

use std::fmt;

use crate::types::{Error, Failure, FieldError, ServiceError};

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// One line, as the CLI would print the error after its subject.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig(errors) => {
                let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
                write!(f, "invalid arguments: {}", errors.join("; "))
            }
            Error::MissingCredentials(m) => write!(f, "missing credentials: {m}"),
            Error::Service(e) => write!(f, "{}: {} (HTTP {})", e.code, e.message, e.status),
            Error::Transport(m) => f.write_str(m),
            Error::InvalidResponse(m) => write!(f, "invalid response: {m}"),
        }
    }
}

impl Failure {
    /// A call refused before any request: its arguments, options or credentials.
    pub fn refused(error: Error) -> Self {
        Failure {
            error,
            attempts: 0,
            maybe_started: None,
        }
    }
}

impl Error {
    /// Replaces every occurrence of a secret in the error's text. Service messages are
    /// written by whoever answers (AWS echoes the canonical request, token included, in
    /// `SignatureDoesNotMatch`), so they are scrubbed before they leave the component.
    pub fn redact(self, secrets: &[&str]) -> Self {
        let scrub = |text: String| redact(text, secrets);
        match self {
            Error::Service(e) => Error::Service(ServiceError {
                code: scrub(e.code),
                message: scrub(e.message),
                ..e
            }),
            Error::Transport(m) => Error::Transport(scrub(m)),
            Error::InvalidResponse(m) => Error::InvalidResponse(scrub(m)),
            other => other,
        }
    }
}

/// Replaces each non-empty secret in `text` with `***`.
pub fn redact(mut text: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret) {
            text = text.replace(secret, "***");
        }
    }
    text
}

/// Both checks' values, or every rule either broke, in order, as one `InvalidConfig`.
pub fn all_valid<A, B>(
    a: Result<A, Vec<FieldError>>,
    b: Result<B, Vec<FieldError>>,
) -> Result<(A, B), Vec<FieldError>> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => {
            let mut errors = a.err().unwrap_or_default();
            errors.extend(b.err().unwrap_or_default());
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_secret_in_service_messages() {
        let error = Error::Service(ServiceError {
            status: 403,
            code: "SignatureDoesNotMatch".into(),
            message: "token TOKEN123 and secret S3CR3T, again TOKEN123".into(),
            request_id: Some("r".into()),
        });
        let Error::Service(e) = error.redact(&["S3CR3T", "TOKEN123", ""]) else {
            unreachable!()
        };
        assert_eq!(e.message, "token *** and secret ***, again ***");
        assert_eq!(e.request_id.as_deref(), Some("r"));
    }
}
