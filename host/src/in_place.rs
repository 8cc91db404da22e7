//! The embedded plugin's compiled code runs where it lies in the binary's read-only data.
//! Nothing is copied: only the pages a call runs are read, from the page cache that every
//! process running the binary shares. Copying the 1.1 MB into fresh memory instead took
//! about a millisecond of a cold `sfn-start`.
//!
//! wasmtime runs code it did not map itself through a "custom code memory", which makes
//! the code's pages executable; here that is `mprotect` on the binary's own pages, which
//! then stay executable and never writable, like the binary's own code. An engine with it
//! is used only for this code: code copied or compiled at run time is made executable by
//! wasmtime itself (which also keeps instruction caches coherent where that is needed).
//!
//! One component at a time runs the code in place (see [`Claim`]); while it lives, other
//! runtimes of the process run copies, as they would without this module.

use std::sync::atomic::{AtomicBool, Ordering};

use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// Lets an engine from `config` run code with [`load`], and nothing else: it has no
/// compiler, which spares a cold start building Cranelift's settings only to check them
/// against this CPU (about 50 µs of CPU). The code's own recorded settings are still checked.
pub(crate) fn allow(config: &mut Config) {
    config.enable_compiler(false);
    #[cfg(unix)]
    config.with_custom_code_memory(Some(std::sync::Arc::new(unix::InPlace)));
}

/// `code`, made by `Engine::precompile_component`, as a component whose code runs in
/// place (an engine without [`allow`] copies it instead). The caller holds the [`Claim`],
/// and keeps it for as long as the component lives.
///
/// # Safety
/// As `Component::deserialize`: the bytes must be wasmtime's own output, never anyone
/// else's machine code. Being `'static` and immutable, they outlive the component and
/// never change, as running them in place also requires.
pub(crate) unsafe fn load(
    engine: &Engine,
    code: &'static [u8],
    _claim: &Claim,
) -> wasmtime::Result<Component> {
    #[cfg(unix)]
    // SAFETY: the caller's contract, above.
    let component = unsafe { Component::deserialize_raw(engine, std::ptr::NonNull::from(code)) };
    #[cfg(not(unix))]
    // SAFETY: the caller's contract, above.
    let component = unsafe { Component::deserialize(engine, code) };
    component
}

/// Whether some component runs the embedded code in place now.
static CLAIMED: AtomicBool = AtomicBool::new(false);

/// The right to run the code in place, held by one component at a time: wasmtime finds
/// the code a trap happened in by its address, and refuses (with a panic) to register two
/// loads of the same pages. Other runtimes of the process run copies. Dropped after the
/// component, it lets the next runtime run the code in place.
pub(crate) struct Claim(());

impl Claim {
    /// The claim, unless another component holds it.
    pub(crate) fn take() -> Option<Claim> {
        let free = CLAIMED.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire);
        free.ok().map(|_| Claim(()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        CLAIMED.store(false, Ordering::Release);
    }
}

#[cfg(unix)]
mod unix {
    use rustix::mm::{MprotectFlags, mprotect};

    /// Makes the text of code loaded by [`super::load`] executable, for good.
    pub(super) struct InPlace;

    impl wasmtime::CustomCodeMemory for InPlace {
        /// Any: `publish_executable` refuses text that does not begin a page with an
        /// error, which the loader answers by copying the code, where wasmtime's own check
        /// of a larger alignment would panic.
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

        /// Nothing: the pages stay executable, as the binary's own code does, for the next
        /// runtime to run in place; they never become writable.
        fn unpublish_executable(&self, _text: *const u8, _len: usize) -> wasmtime::Result<()> {
            Ok(())
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
