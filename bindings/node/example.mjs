// Starts an execution without blocking the event loop. Beside this file: sfn-action.mjs,
// worker.mjs, and jco's output in ./sfn-action; @bytecodealliance/preview2-shim installed.
import { open } from './sfn-action.mjs';

const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_SFN } = process.env;
const sfn = open({
  module: new URL('./sfn-action/sfn_start_execution.js', import.meta.url),
  // The component sees only this environment; an unset (undefined) variable is left out.
  env: { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_SFN },
});
try {
  const stateMachineArn = 'arn:aws:states:us-east-1:123456789012:stateMachine:HelloWorld';
  const config = { stateMachineArn };
  const options = { useFips: false, useDualStack: false, timeoutMs: 30_000n };
  // Rejects with an SfnError whose .payload is the `failure` record: { error: { tag, val }, … }
  const { executionArn } = await sfn.start(config, options);
  console.log(executionArn);
} finally {
  await sfn.close();
}
