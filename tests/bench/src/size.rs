//! Figure 5: what is shipped and what is kept: the plugin component embedded in the library
//! (`sfn_host::COMPONENT`), the compiled form of it that `sfn-start` keeps in its cache, and
//! the CLI binaries.

use std::path::Path;

/// The embedded plugin component's size in bytes.
pub fn component() -> u64 {
    sfn_host::COMPONENT.len() as u64
}

/// The size of a file, if it can be read.
pub fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}
