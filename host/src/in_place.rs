//! The embedded plugin's compiled code runs where it lies in the binary's read-only data.
//! Nothing is copied: only the pages a call runs are read, from the page cache that every
//! process running the binary shares. Copying the 1.1 MB into fresh memory instead took
//! about a millisecond of a cold `sfn-start`.
//!
//! wasmtime runs code it did not map itself through a "custom code memory", which makes
//! the code's pages executable; here that is `mprotect` on the binary's own pages. An
//! engine with it is used only for this code: code compiled at run time is made executable
//! by wasmtime itself (which also keeps instruction caches coherent where that is needed).

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// Lets an engine from `config` run code with [`load`].
#[cfg_attr(not(unix), allow(unused_variables))]
pub(crate) fn allow(config: &mut Config) {
    #[cfg(unix)]
    config.with_custom_code_memory(Some(std::sync::Arc::new(unix::InPlace)));
}

/// `code`, made by `Engine::precompile_component`, as a component whose code runs in
/// place; an engine without [`allow`] copies it instead.
///
/// # Safety
/// As `Component::deserialize`: the bytes must be wasmtime's own output, never anyone
/// else's machine code. Being `'static` and immutable, they outlive the component and
/// never change, as running them in place also requires.
pub(crate) unsafe fn load(engine: &Engine, code: &'static [u8]) -> wasmtime::Result<Component> {
    #[cfg(unix)]
    // SAFETY: the caller's contract, above.
    return unsafe { Component::deserialize_raw(engine, std::ptr::NonNull::from(code)) };
    #[cfg(not(unix))]
    // SAFETY: the caller's contract, above.
    return unsafe { Component::deserialize(engine, code) };
}

#[cfg(unix)]
mod unix {
    use rustix::mm::{MprotectFlags, mprotect};

    /// Makes the text of code loaded by [`super::load`] executable, and read-only again
    /// when its component is dropped.
    pub(super) struct InPlace;

    impl wasmtime::CustomCodeMemory for InPlace {
        /// Any: `publish_executable` refuses text that does not begin a page with an
        /// error, which the loader answers by compiling, where wasmtime's own check of a
        /// larger alignment would panic.
        fn required_alignment(&self) -> usize {
            1
        }

        fn publish_executable(&self, text: *const u8, len: usize) -> wasmtime::Result<()> {
            let page = rustix::param::page_size();
            if !text.addr().is_multiple_of(page) {
                wasmtime::bail!(
                    "the precompiled code at {text:p} does not begin a {page}-byte page"
                );
            }
            protect(text, len, MprotectFlags::READ | MprotectFlags::EXEC)
        }

        /// Back to read-only rather than the writable the trait describes: the code is the
        /// binary's, and nothing here patches code. Code that `publish_executable` refused
        /// was never made executable, and is left as it is: wasmtime unpublishes it all the
        /// same, and panics on an error.
        fn unpublish_executable(&self, text: *const u8, len: usize) -> wasmtime::Result<()> {
            if !text.addr().is_multiple_of(rustix::param::page_size()) {
                return Ok(());
            }
            protect(text, len, MprotectFlags::READ)
        }
    }

    fn protect(text: *const u8, len: usize, flags: MprotectFlags) -> wasmtime::Result<()> {
        // SAFETY: `text..text + len`, page-aligned, is the text section of code that
        // `load` was given, which lies in the binary's read-only data: changing its
        // protection touches no memory anyone writes, and the pages up to the end of the
        // last one hold only more of that same code image.
        unsafe { mprotect(text.cast_mut().cast(), len, flags) }
            .map_err(|e| wasmtime::format_err!("making the precompiled code executable: {e}"))
    }
}
