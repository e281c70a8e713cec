/**
 * A private copy of the service for `osls package` runs that only need the CloudFormation
 * template: serverless.yml, package.json and scripts/serverless/, with node_modules linked. osls
 * stages every package in `<service>/.serverless/` before moving it to `--package`, so two test
 * files packaging in the repository at the same time (jest runs two workers) race on that folder
 * ("Could not calculate hash for .serverless/serverless-qa-graphql.zip").
 */
import { cpSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './helpers';

export function serviceCopy(scratch: string): string {
  const service = path.join(scratch, 'service');
  cpSync(path.join(ROOT, 'serverless.yml'), path.join(service, 'serverless.yml'));
  cpSync(path.join(ROOT, 'package.json'), path.join(service, 'package.json'));
  cpSync(path.join(ROOT, 'scripts', 'serverless'), path.join(service, 'scripts', 'serverless'), { recursive: true });
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(service, 'node_modules'));
  return service;
}
