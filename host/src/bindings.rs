//! The component's exports, as wasmtime's `bindgen!` generates them from the WIT. Each WIT
//! type is the core's own Rust type (`with:`), which the core's `wasmtime` feature gives
//! the component model's derives: nothing is converted on the way in or out.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    exports: { default: async },
    with: {
        "sfn:action/types": sfn_core::types,
    },
});

/// The exported interface, as the bindings call it.
pub(crate) use exports::sfn::action::start_execution::Guest;
