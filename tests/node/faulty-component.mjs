// In place of jco's output, for the fault tests of async.test.mjs: the same shape
// (`instantiate` resolving to `{ startExecution }`), with functions that fail as a broken
// instance or worker does. `prepare` says which instance answered. The environment given
// to open() may ask for a fault in the load instead: FAULT=load fails it; FAULT=uncaught
// never ends it, and the worker dies of an uncaught exception.

import { randomUUID } from 'node:crypto';

export async function instantiate(getCoreModule, imports) {
  const environment = Object.fromEntries(imports['wasi:cli/environment'].getEnvironment());
  if (environment.FAULT === 'load') throw new Error('no instance');
  if (environment.FAULT === 'uncaught') {
    setTimeout(() => {
      throw new Error('lost in the worker');
    });
    return new Promise(() => {});
  }
  const instance = randomUUID();
  return {
    startExecution: {
      prepare: () => ({ instance }),
      // What a guest panic or an `unreachable` throws out of jco.
      start: () => {
        throw new WebAssembly.RuntimeError('unreachable');
      },
      // A worker that dies in the call.
      startSync: () => process.exit(7),
      // A result that structured clone cannot copy back.
      describe: () => () => 'not a record',
    },
  };
}
