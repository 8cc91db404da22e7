//! Compiled code kept between processes, one `<key>.cwasm` per component in a folder that
//! only the user can write. The key is a SHA-256 of the engine's compatibility hash
//! (wasmtime's version and every setting that shapes code) and the component's bytes.
//!
//! Compiled code is native code that runs with the user's credentials, so an entry is
//! trusted only if nobody else could have written it: the folder and the entry must be
//! owned by the user, not writable by group or others, and not symlinks. Anything else is
//! ignored (and the component compiled). The folder is created private (0700); entries are
//! written to unpredictable, exclusively created temporary files and renamed into place,
//! so that a reader never sees half of one and nobody can make us write elsewhere.

use std::hash::{Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A folder of compiled code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeCache {
    dir: PathBuf,
}

/// What the cache holds for a key.
#[derive(Debug)]
pub(crate) enum Entry {
    /// A trusted entry, at this path.
    Trusted(PathBuf),
    /// Nothing.
    Missing,
    /// Something the user cannot vouch for: its path and why.
    Untrusted(PathBuf, Distrust),
}

/// Why an entry or its folder is not trusted.
#[derive(Debug)]
pub(crate) enum Distrust {
    /// Its metadata could not be read.
    Unreadable(std::io::Error),
    Symlink,
    /// Owned by another user.
    Owner {
        owner: u32,
        user: u32,
    },
    /// Group or others may write it.
    Writable {
        mode: u32,
    },
}

impl std::fmt::Display for Distrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Distrust::Unreadable(e) => e.fmt(f),
            Distrust::Symlink => f.write_str("it is a symbolic link"),
            Distrust::Owner { owner, user } => write!(f, "it is owned by user {owner}, not {user}"),
            Distrust::Writable { mode } => {
                write!(f, "its group or others may write it (mode {mode:o})")
            }
        }
    }
}

impl std::error::Error for Distrust {}

/// `sfn-start`'s cache folder: `$XDG_CACHE_HOME/sfn-start/components`, else
/// `~/.cache/sfn-start/components`; `None` if the environment names no home for it.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(std::env::var_os("HOME")?).join(".cache")))?;
    Some(base.join("sfn-start").join("components"))
}

/// The key of `wasm` compiled by an engine with this compatibility hash.
pub(crate) fn key(compatibility: impl Hash, wasm: &[u8]) -> String {
    let mut digest = DigestHasher(Sha256::new());
    compatibility.hash(&mut digest);
    digest.0.update(wasm);
    digest
        .0
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

impl CodeCache {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for `key`, checked.
    pub(crate) fn get(&self, key: &str) -> Entry {
        let path = self.path(key);
        // Nothing to be had there (no such file, no such folder, no access): a miss.
        if std::fs::symlink_metadata(&path).is_err() {
            return Entry::Missing;
        }
        let checked = trust::writable_only_by_the_user(&self.dir)
            .and_then(|()| trust::writable_only_by_the_user(&path));
        match checked {
            Ok(()) => Entry::Trusted(path),
            Err(why) => Entry::Untrusted(path, why),
        }
    }

    /// Writes `code` as the entry for `key`, creating the folder (0700) if need be. A
    /// folder the user cannot vouch for is not written to.
    pub(crate) fn put(&self, key: &str, code: &[u8]) -> std::io::Result<()> {
        trust::create_private_dir(&self.dir)?;
        trust::writable_only_by_the_user(&self.dir).map_err(std::io::Error::other)?;
        let mut file = tempfile::Builder::new()
            .prefix(".")
            .suffix(".tmp")
            .tempfile_in(&self.dir)?;
        file.write_all(code)?;
        file.persist(self.path(key)).map_err(|e| e.error)?;
        Ok(())
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.cwasm"))
    }
}

#[cfg(unix)]
mod trust {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    use std::path::Path;

    use super::Distrust;

    /// `Ok` if `path` is no symlink, is owned by this process's user and is not writable by
    /// group or others; otherwise why not.
    pub(super) fn writable_only_by_the_user(path: &Path) -> Result<(), Distrust> {
        let meta = std::fs::symlink_metadata(path).map_err(Distrust::Unreadable)?;
        let user = rustix::process::geteuid().as_raw();
        if meta.file_type().is_symlink() {
            Err(Distrust::Symlink)
        } else if meta.uid() != user {
            Err(Distrust::Owner {
                owner: meta.uid(),
                user,
            })
        } else if meta.mode() & 0o022 != 0 {
            Err(Distrust::Writable {
                mode: meta.mode() & 0o777,
            })
        } else {
            Ok(())
        }
    }

    pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
}

#[cfg(not(unix))]
mod trust {
    use std::path::Path;

    use super::Distrust;

    /// Only symlinks are refused: ownership and permissions are ACLs here, left to the OS.
    pub(super) fn writable_only_by_the_user(path: &Path) -> Result<(), Distrust> {
        let meta = std::fs::symlink_metadata(path).map_err(Distrust::Unreadable)?;
        if meta.file_type().is_symlink() {
            return Err(Distrust::Symlink);
        }
        Ok(())
    }

    pub(super) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)
    }
}

/// Feeds `Hash` output into a SHA-256 digest.
struct DigestHasher(Sha256);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    /// Unused: the digest, not a `u64`, is the result.
    fn finish(&self) -> u64 {
        0
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn an_entry_written_is_trusted_and_its_folder_private() {
        let home = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(home.path().join("a").join("b"));
        assert!(matches!(cache.get("k"), Entry::Missing));
        cache.put("k", b"code").unwrap();
        assert_eq!(mode(cache.dir()), 0o700);
        assert_eq!(mode(&home.path().join("a")), 0o700);
        let path = cache.dir().join("k.cwasm");
        assert!(matches!(cache.get("k"), Entry::Trusted(p) if p == path));
        assert_eq!(std::fs::read(&path).unwrap(), b"code");
        // Only the entry is left: the temporary file was renamed into place.
        assert_eq!(std::fs::read_dir(cache.dir()).unwrap().count(), 1);
    }

    #[test]
    fn what_others_could_have_written_is_not_trusted() {
        let home = tempfile::tempdir().unwrap();
        let cache = CodeCache::new(home.path().to_path_buf());
        cache.put("k", b"code").unwrap();
        let path = cache.dir().join("k.cwasm");
        chmod(&path, 0o664);
        assert!(
            matches!(cache.get("k"), Entry::Untrusted(p, Distrust::Writable { mode: 0o664 }) if p == path)
        );
        chmod(&path, 0o600);
        chmod(cache.dir(), 0o777);
        assert!(
            matches!(cache.get("k"), Entry::Untrusted(p, Distrust::Writable { mode: 0o777 }) if p == path)
        );
        // Nor is anything written into such a folder.
        assert!(cache.put("other", b"code").is_err());
        chmod(cache.dir(), 0o700);
        // Another user's file: only root can make one to test with.
        if std::os::unix::fs::chown(&path, Some(65534), None).is_ok() {
            assert!(matches!(
                cache.get("k"),
                Entry::Untrusted(p, Distrust::Owner { owner: 65534, .. }) if p == path
            ));
        } else {
            eprintln!("skipped: the other-owner case (changing a file's owner needs root)");
        }
        std::fs::remove_file(&path).unwrap();
        let elsewhere = home.path().join("elsewhere");
        std::fs::write(&elsewhere, b"code").unwrap();
        std::os::unix::fs::symlink(&elsewhere, &path).unwrap();
        assert!(matches!(cache.get("k"), Entry::Untrusted(p, Distrust::Symlink) if p == path));
    }

    #[test]
    fn a_symlinked_folder_is_not_trusted() {
        let home = tempfile::tempdir().unwrap();
        let real = CodeCache::new(home.path().join("real"));
        real.put("k", b"code").unwrap();
        let link = home.path().join("link");
        std::os::unix::fs::symlink(real.dir(), &link).unwrap();
        let cache = CodeCache::new(link.clone());
        assert!(
            matches!(cache.get("k"), Entry::Untrusted(p, Distrust::Symlink) if p == link.join("k.cwasm"))
        );
    }
}
