//! The functions of `sfn:action/start-execution`, the interface the component exports:
//! found once at load, and type-checked one at a time, when a call runs one.
//!
//! `bindgen!`'s bindings type-check all seven at every instantiation, and every call is an
//! instantiation: measured, about 2.5 µs of a 52 µs warm instantiate + prepare, for six
//! functions the call never runs. The signatures below are the WIT's (`wit/sfn-action.wit`),
//! over the core's types; wasmtime checks the one called against the component, and a
//! mismatch is an error, never undefined behaviour. The tests call every function.

use wasmtime::component::{
    Component, ComponentExportIndex, ComponentNamedList, ComponentType, Instance, Lift, Lower,
};
use wasmtime::{AsContextMut, Store};

use crate::{
    ClientOptions, Error, Execution, Failure, FieldError, Outcome, SignedRequest,
    StartExecutionConfig,
};

/// The exported interface, by its versioned name.
const INTERFACE: &str = "sfn:action/start-execution@0.2.0";

/// Where each function of the interface is in one component.
pub(crate) struct Exports {
    validate: ComponentExportIndex,
    prepare: ComponentExportIndex,
    prepare_sync: ComponentExportIndex,
    start: ComponentExportIndex,
    start_sync: ComponentExportIndex,
    describe: ComponentExportIndex,
    wait: ComponentExportIndex,
}

impl Exports {
    /// The functions of `component`, or the name of the first one it does not export.
    pub(crate) fn find(component: &Component) -> Result<Self, String> {
        let interface = component
            .get_export_index(None, INTERFACE)
            .ok_or_else(|| format!("the component does not export {INTERFACE}"))?;
        let function = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .ok_or_else(|| format!("the component's {INTERFACE} has no function {name}"))
        };
        Ok(Self {
            validate: function("validate")?,
            prepare: function("prepare")?,
            prepare_sync: function("prepare-sync")?,
            start: function("start")?,
            start_sync: function("start-sync")?,
            describe: function("describe")?,
            wait: function("wait")?,
        })
    }

    /// The functions of `instance`, an instance of the component they were found in.
    pub(crate) fn of(&self, instance: Instance) -> Guest<'_> {
        Guest {
            instance,
            exports: self,
        }
    }
}

/// One instance's functions, to call as `bindgen!`'s `Guest` calls them.
pub(crate) struct Guest<'a> {
    instance: Instance,
    exports: &'a Exports,
}

type Call<T> = wasmtime::Result<T>;

impl Guest<'_> {
    pub(crate) async fn call_validate<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &StartExecutionConfig,
    ) -> Call<Result<(), Vec<FieldError>>> {
        self.call(store, &self.exports.validate, (config,)).await
    }

    pub(crate) async fn call_prepare<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Call<Result<SignedRequest, Error>> {
        self.call(store, &self.exports.prepare, (config, options))
            .await
    }

    pub(crate) async fn call_prepare_sync<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Call<Result<SignedRequest, Error>> {
        self.call(store, &self.exports.prepare_sync, (config, options))
            .await
    }

    pub(crate) async fn call_start<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Call<Result<Execution, Failure>> {
        self.call(store, &self.exports.start, (config, options))
            .await
    }

    pub(crate) async fn call_start_sync<T: Send>(
        &self,
        store: &mut Store<T>,
        config: &StartExecutionConfig,
        options: &ClientOptions,
    ) -> Call<Result<Outcome, Failure>> {
        self.call(store, &self.exports.start_sync, (config, options))
            .await
    }

    pub(crate) async fn call_describe<T: Send>(
        &self,
        store: &mut Store<T>,
        execution_arn: &str,
        options: &ClientOptions,
    ) -> Call<Result<Outcome, Failure>> {
        self.call(store, &self.exports.describe, (execution_arn, options))
            .await
    }

    pub(crate) async fn call_wait<T: Send>(
        &self,
        store: &mut Store<T>,
        execution_arn: &str,
        options: &ClientOptions,
        max_wait_ms: u64,
    ) -> Call<Result<Outcome, Failure>> {
        let params = (execution_arn, options, max_wait_ms);
        self.call(store, &self.exports.wait, params).await
    }

    /// Type-checks the function at `index` as taking `P` and returning `R`, and calls it.
    async fn call<T: Send, P, R>(
        &self,
        store: &mut Store<T>,
        index: &ComponentExportIndex,
        params: P,
    ) -> Call<R>
    where
        P: ComponentNamedList + Lower + Send + Sync,
        R: ComponentType + Lift + Send + Sync + 'static,
    {
        let function = self
            .instance
            .get_typed_func::<P, (R,)>(store.as_context_mut(), index)?;
        let (result,) = function.call_async(store, params).await?;
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
