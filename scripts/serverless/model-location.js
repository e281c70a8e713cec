/**
 * The model's location, from the two required parameters `modelBucket` and `modelPrefix`. Read by
 * osls through `${file(./scripts/serverless/model-location.js):<name>}` so that a package or deploy
 * without them fails with a message naming both and showing the flags, rather than osls's generic
 * "cannot resolve variable"; never packaged.
 */
'use strict';

const USAGE =
  'add --param=modelBucket=<bucket> --param=modelPrefix=<folder/ or key.tar.gz> ' +
  '(e.g. --param=modelBucket=my-models --param=modelPrefix=distilbert-squad/; docs/deploy.md)';

async function required(resolveVariable, name) {
  const value = await resolveVariable(`param:${name}, null`);
  const text = value === null || value === undefined ? '' : String(value).trim();
  if (text === '') throw new Error(`The model's location is missing: ${name} is not set. ${USAGE}`);
  return text;
}

module.exports = {
  bucket: ({ resolveVariable }) => required(resolveVariable, 'modelBucket'),
  prefix: ({ resolveVariable }) => required(resolveVariable, 'modelPrefix'),
};
