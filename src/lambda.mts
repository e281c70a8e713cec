/**
 * The Lambda entry (ESM): `await ready` at top level makes the model load during INIT.
 */
import { handler, ready } from './handler';

await ready;

export { handler };
