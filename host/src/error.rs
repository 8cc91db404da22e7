//! Why the host could not run a call, as opposed to the component's own [`crate::Error`],
//! which is a value the call returns. wasmtime's errors keep their type: a trap can be told
//! from a timeout, and `downcast_ref::<wasmtime::Trap>()` names the trap.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::policy::InvalidEndpoint;
use crate::shared_config::AwsConfigError;

#[derive(Debug)]
#[non_exhaustive]
pub enum HostError {
    /// A component file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The host configuration was refused, naming what is wrong with it.
    Config(ConfigError),
    /// The component did not compile, link or instantiate, or does not export
    /// `sfn:action/start-execution`; the error says which step failed.
    Load(wasmtime::Error),
    /// The component trapped: a guest bug or a limit (memory, instances) reached. Shown on
    /// one line, naming the memory limit when the component had just reached it.
    Trap(wasmtime::Error),
    /// The call, instantiation included, did not finish within `HostConfig::timeout`.
    Timeout(Duration),
}

/// What is wrong with a host configuration.
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The allowed endpoint is not a URL the outbound policy can allow.
    Endpoint(InvalidEndpoint),
    /// TLS could not be set up for the connection pool.
    Tls(rustls::Error),
    /// The AWS shared configuration could not be read.
    Aws(AwsConfigError),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Read { path, source } => {
                write!(f, "reading component {}: {source}", path.display())
            }
            HostError::Config(error) => error.fmt(f),
            HostError::Load(e) => write!(f, "{e:#}"),
            HostError::Trap(e) => write!(f, "the component trapped: {}", trap_cause(e)),
            HostError::Timeout(limit) => write!(f, "the call did not finish within {limit:?}"),
        }
    }
}

/// A trap's cause on one line, and the memory limit if the component had just reached it;
/// its wasm backtrace, which only a developer reads, is left to `{:?}`.
fn trap_cause(error: &wasmtime::Error) -> String {
    let cause = match error.downcast_ref::<wasmtime::Trap>() {
        Some(trap) => {
            let shown = trap.to_string();
            // "wasm trap: " would only repeat "trapped".
            let cause = shown.strip_prefix("wasm trap: ").unwrap_or(&shown);
            cause.to_string()
        }
        None => error.root_cause().to_string(),
    };
    match error.downcast_ref::<MemoryLimitReached>() {
        Some(reached) => format!("{cause}, after {reached}"),
        None => cause,
    }
}

/// The context of a trap that came after the store refused the component memory past
/// `HostConfig::memory_limit` (its value): most likely a failed allocation.
#[derive(Debug)]
pub(crate) struct MemoryLimitReached(pub(crate) usize);

impl fmt::Display for MemoryLimitReached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit = self.0;
        write!(f, "its memory reached the limit of {limit} bytes")
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Endpoint(e) => e.fmt(f),
            ConfigError::Tls(e) => write!(f, "configuring TLS: {e}"),
            ConfigError::Aws(e) => write!(f, "reading the AWS configuration: {e}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Read { source, .. } => Some(source),
            HostError::Config(e) => Some(e),
            HostError::Load(e) | HostError::Trap(e) => Some(e.as_ref()),
            HostError::Timeout(_) => None,
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Endpoint(e) => Some(e),
            ConfigError::Tls(e) => Some(e),
            ConfigError::Aws(e) => Some(e),
        }
    }
}

impl From<ConfigError> for HostError {
    fn from(error: ConfigError) -> Self {
        HostError::Config(error)
    }
}
