//! AWS credentials: given explicitly, or read from the standard environment variables.

use crate::types::{Credentials, Error, FieldError};

pub const ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";

/// The explicit credentials, else those of the environment.
pub fn resolve(
    explicit: Option<&Credentials>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Credentials, Error> {
    let credentials = match explicit {
        Some(given) => Credentials {
            session_token: given.session_token.clone().filter(|t| !t.is_empty()),
            ..given.clone()
        },
        None => from_env(env)?,
    };
    check(&credentials)?;
    Ok(credentials)
}

fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Credentials, Error> {
    let var = |name| env(name).filter(|v: &String| !v.is_empty());
    match (var(ACCESS_KEY_ID), var(SECRET_ACCESS_KEY)) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Credentials {
            access_key_id,
            secret_access_key,
            session_token: var(SESSION_TOKEN),
        }),
        (Some(_), None) => Err(Error::MissingCredentials(format!(
            "{ACCESS_KEY_ID} is set but {SECRET_ACCESS_KEY} is not"
        ))),
        (None, Some(_)) => Err(Error::MissingCredentials(format!(
            "{SECRET_ACCESS_KEY} is set but {ACCESS_KEY_ID} is not"
        ))),
        (None, None) => Err(Error::MissingCredentials(format!(
            "pass credentials in the client options or set {ACCESS_KEY_ID} and {SECRET_ACCESS_KEY} (and {SESSION_TOKEN} for temporary credentials)"
        ))),
    }
}

/// The key id and token travel in HTTP headers, so they must be header-safe, and the key id
/// sits in the `Credential=` part of the Authorization header, where a `,`, `/` or `=`
/// would make it unreadable: it must be what IAM issues (`[\w]+`). The error names the
/// rule, never the value.
fn check(credentials: &Credentials) -> Result<(), Error> {
    let mut errors = Vec::new();
    if !is_key_id(&credentials.access_key_id) {
        errors.push(KEY_ID_RULE);
    }
    if credentials.secret_access_key.is_empty() {
        errors.push("the secret access key must not be empty");
    }
    if credentials
        .session_token
        .as_deref()
        .is_some_and(|t| !is_visible_ascii(t))
    {
        errors.push("the session token must be visible ASCII without spaces");
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidConfig(
        errors
            .into_iter()
            .map(|m| FieldError::new("credentials", m))
            .collect(),
    ))
}

const KEY_ID_RULE: &str =
    "the access key id must be one or more letters, digits or underscores, as IAM issues them";

fn is_key_id(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn is_visible_ascii(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn explicit_credentials_win_over_the_environment() {
        let given = Credentials {
            access_key_id: "AKIDGIVEN".into(),
            secret_access_key: "given-secret".into(),
            session_token: Some(String::new()),
        };
        let env = env_of(&[(ACCESS_KEY_ID, "AKIDENV"), (SECRET_ACCESS_KEY, "env")]);
        let resolved = resolve(Some(&given), &env).unwrap();
        assert_eq!(resolved.access_key_id, "AKIDGIVEN");
        assert_eq!(resolved.session_token, None);
    }

    #[test]
    fn environment_credentials_with_token() {
        let env = env_of(&[
            (ACCESS_KEY_ID, "ASIAENV"),
            (SECRET_ACCESS_KEY, "s"),
            (SESSION_TOKEN, "tok+/="),
        ]);
        let resolved = resolve(None, &env).unwrap();
        assert_eq!(resolved.session_token.as_deref(), Some("tok+/="));
    }

    #[test]
    fn missing_variables_are_named() {
        let none = env_of(&[]);
        assert_eq!(
            resolve(None, &none).unwrap_err(),
            Error::MissingCredentials("pass credentials in the client options or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)".into())
        );
        let half = env_of(&[(ACCESS_KEY_ID, "AKID"), (SECRET_ACCESS_KEY, "")]);
        assert_eq!(
            resolve(None, &half).unwrap_err(),
            Error::MissingCredentials(
                "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not".into()
            )
        );
        let other_half = env_of(&[(SECRET_ACCESS_KEY, "s")]);
        assert_eq!(
            resolve(None, &other_half).unwrap_err(),
            Error::MissingCredentials(
                "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not".into()
            )
        );
    }

    #[test]
    fn unsafe_values_are_refused_without_echoing_them() {
        let given = Credentials {
            access_key_id: "AKID WITH SPACE".into(),
            secret_access_key: "TOPSECRET".into(),
            session_token: Some("tok\r\nx-injected: 1".into()),
        };
        let error = resolve(Some(&given), &env_of(&[])).unwrap_err();
        let text = format!("{error:?}");
        assert!(
            !text.contains("TOPSECRET") && !text.contains("injected"),
            "{text}"
        );
        assert_eq!(
            error,
            Error::InvalidConfig(vec![
                FieldError::new("credentials", KEY_ID_RULE),
                FieldError::new(
                    "credentials",
                    "the session token must be visible ASCII without spaces"
                ),
            ])
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let c = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "TOPSECRET".into(),
            session_token: Some("TOKEN".into()),
        };
        let text = format!("{c:?}");
        assert!(text.contains("AKID") && !text.contains("TOPSECRET") && !text.contains("TOKEN"));
    }
}
