//! Figure 5: what is shipped: the plugin component and the code the build script
//! precompiled from it, both embedded in the library (`sfn_host::COMPONENT`,
//! `sfn_host::PRECOMPILED`).

use std::path::Path;

/// Sizes in bytes.
pub struct Sizes {
    pub component: u64,
    pub precompiled: u64,
}

pub fn measure() -> Sizes {
    Sizes {
        component: sfn_host::COMPONENT.len() as u64,
        precompiled: sfn_host::PRECOMPILED.len() as u64,
    }
}

/// The size of a file, if it can be read.
pub fn file_size(path: &Path) -> Option<u64> {
    std::fs::metadata(path).ok().map(|m| m.len())
}
