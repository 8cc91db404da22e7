//! The functions of `sfn:action/start-execution`, the interface the component exports:
//! found once at load, and type-checked one at a time, when a call runs one.
//!
//! `bindgen!`'s bindings type-check all seven at every instantiation, and a call without a
//! kept instance is an instantiation: measured, about 2.5 µs of a 52 µs warm instantiate + prepare, for six
//! functions the call never runs. Each function's signature is that of the `Runtime`
//! method that calls it, over the core's types (the WIT's); wasmtime checks it against the
//! component at the call, and a mismatch is an error, never undefined behaviour. The tests
//! call every function.

use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, ComponentType, Instance, Lift, Lower,
};
use wasmtime::{AsContextMut, Store};

/// The exported interface, by its versioned name.
const INTERFACE: &str = "sfn:action/start-execution@0.2.0";

/// A function of the interface. Its signature is the `Runtime` method's that calls it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Function {
    Validate,
    Prepare,
    PrepareSync,
    Start,
    StartSync,
    Describe,
    Wait,
}

impl Function {
    const ALL: [Function; 7] = [
        Function::Validate,
        Function::Prepare,
        Function::PrepareSync,
        Function::Start,
        Function::StartSync,
        Function::Describe,
        Function::Wait,
    ];

    /// Its name in the WIT.
    fn name(self) -> &'static str {
        match self {
            Function::Validate => "validate",
            Function::Prepare => "prepare",
            Function::PrepareSync => "prepare-sync",
            Function::Start => "start",
            Function::StartSync => "start-sync",
            Function::Describe => "describe",
            Function::Wait => "wait",
        }
    }
}

/// Where each function of the interface is in one component, in [`Function::ALL`]'s order.
pub(crate) struct Exports(Vec<ComponentExportIndex>);

impl Exports {
    /// The functions of `component`, or the name of the first one it does not export.
    pub(crate) fn find(component: &Component) -> Result<Self, String> {
        let interface = component
            .get_export_index(None, INTERFACE)
            .ok_or_else(|| format!("the component does not export {INTERFACE}"))?;
        let find = |function: Function| {
            let name = function.name();
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| format!("the component's {INTERFACE} has no function {name}"))
        };
        Function::ALL
            .into_iter()
            .map(find)
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// The functions of `instance`, an instance of the component they were found in.
    pub(crate) fn of(&self, instance: Instance) -> Guest<'_> {
        Guest {
            instance,
            exports: self,
        }
    }
}

/// One instance's functions.
pub(crate) struct Guest<'a> {
    instance: Instance,
    exports: &'a Exports,
}

impl Guest<'_> {
    /// Type-checks `function` as taking `P` and returning `R`, and calls it.
    pub(crate) async fn call<T: Send, P, R>(
        &self,
        store: &mut Store<T>,
        function: Function,
        params: P,
    ) -> wasmtime::Result<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let index = &self.exports.0[function as usize];
        let typed = self
            .instance
            .get_typed_func::<P, (R,)>(store.as_context_mut(), index)?;
        let (result,) = typed.call_async(store, params).await?;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_component_without_the_interface_is_named_for_it() {
        let engine = wasmtime::Engine::default();
        // The smallest component: its preamble, nothing exported.
        let empty = Component::new(&engine, b"\0asm\x0d\x00\x01\x00").unwrap();
        let missing = Exports::find(&empty).err();
        assert_eq!(
            missing.as_deref(),
            Some("the component does not export sfn:action/start-execution@0.2.0")
        );
    }
}
