//! Behaviour of the error types of `types`: construction and display (`scrub` keeps
//! secrets out of them).

use std::fmt;

use crate::types::{Error, Failure, FieldError};

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
