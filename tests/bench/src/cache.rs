//! Compiled-code caches: private homes for `sfn-start`'s cache (as `XDG_CACHE_HOME`) and for
//! the library figures, and what an entry looked like, to tell that nobody rewrote it.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

/// An empty directory that only this user may enter (0700), removed when dropped.
pub struct CacheHome(TempDir);

impl CacheHome {
    pub fn create() -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("sfn-bench-cache-")
            .tempdir()
            .map_err(|e| format!("creating a cache home: {e}"))?;
        // The cache trusts only what nobody else could have written.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("making {} private: {e}", dir.path().display()))?;
        Ok(Self(dir))
    }

    /// What to set `XDG_CACHE_HOME` to.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// Where `sfn-start` keeps its compiled code under this home (as
    /// `sfn_host::cache::default_dir` finds it).
    pub fn components(&self) -> PathBuf {
        components_under(self.path())
    }
}

/// `sfn-start`'s cache folder under `home`.
pub fn components_under(home: &Path) -> PathBuf {
    home.join("sfn-start").join("components")
}

/// One entry of a cache folder, as far as telling a rewrite goes: its name, inode,
/// modification time and size.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    inode: u64,
    modified_ns: i128,
    pub len: u64,
}

/// The `.cwasm` entries of `dir`, sorted by name (none if it does not exist).
pub fn entries(dir: &Path) -> Result<Vec<Entry>, String> {
    let listing = match std::fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("listing {}: {e}", dir.display())),
    };
    let mut entries = Vec::new();
    for item in listing {
        let item = item.map_err(|e| format!("listing {}: {e}", dir.display()))?;
        let name = item.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".cwasm") {
            continue;
        }
        let meta = item
            .metadata()
            .map_err(|e| format!("reading {}: {e}", item.path().display()))?;
        entries.push(Entry {
            name,
            inode: meta.ino(),
            modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            len: meta.len(),
        });
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(entries)
}

/// The one entry a first run should have left in `dir`.
pub fn only_entry(dir: &Path) -> Result<Entry, String> {
    let mut found = entries(dir)?;
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!(
            "{}: expected one compiled component after sfn-start's first run, found {n}",
            dir.display()
        )),
    }
}
