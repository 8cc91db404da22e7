//! Why the host could not run a call, as opposed to the component's own [`crate::Error`],
//! which is a value the call returns. wasmtime's errors keep their type: a trap can be told
//! from a timeout, and `downcast_ref::<wasmtime::Trap>()` names the trap.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub enum HostError {
    /// A component file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The host configuration was refused, naming what is wrong with it.
    Config(String),
    /// The component did not compile, link or instantiate, or does not export
    /// `sfn:action/start-execution`; the error says which step failed.
    Load(wasmtime::Error),
    /// The component trapped: a guest bug or a limit (memory, instances) reached.
    Trap(wasmtime::Error),
    /// The call, instantiation included, did not finish within `HostConfig::timeout`.
    Timeout(Duration),
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Read { path, source } => {
                write!(f, "reading component {}: {source}", path.display())
            }
            HostError::Config(message) => f.write_str(message),
            HostError::Load(e) => write!(f, "{e:#}"),
            HostError::Trap(e) => write!(f, "the component trapped: {e:#}"),
            HostError::Timeout(limit) => write!(f, "the call did not finish within {limit:?}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Read { source, .. } => Some(source),
            HostError::Load(e) | HostError::Trap(e) => Some(e.as_ref()),
            HostError::Config(_) | HostError::Timeout(_) => None,
        }
    }
}
