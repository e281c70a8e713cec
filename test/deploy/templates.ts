/**
 * The CloudFormation template of `osls package`, for tests that only read the template
 * (containment, alarms): packaged offline with every AWS credential source removed, one packaging
 * at a time across test workers (scripts/build-lambda.ts `runOslsPackage`).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { oslsBin, packagingEnv, runOslsPackage } from '../../scripts/build-lambda';
import { MODEL_PARAMS } from './helpers';

export interface CfnResource {
  Type: string;
  Properties: Record<string, any>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
}

/** Packages into folders under `scratch`, with a HOME of its own (no ~/.aws). */
export function templatePackager(scratch: string) {
  const env = { ...packagingEnv(), HOME: mkdtempSync(path.join(scratch, 'home-')) };
  /**
   * `osls package` with exactly these arguments (no --stage unless given) and the model's
   * parameters; the template, or the failure's output.
   */
  function osls(
    args: string[],
    params: Record<string, string | null> = {},
  ): { template?: CfnTemplate; output: string } {
    const dir = mkdtempSync(path.join(scratch, 'pkg-'));
    // A null parameter is left out (the model's own included).
    const paramArgs = Object.entries({ ...MODEL_PARAMS, ...params })
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `--param=${k}=${v}`);
    const run = runOslsPackage([oslsBin(), 'package', '--package', dir, ...args, ...paramArgs], env, 120_000);
    const output = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) return { output };
    return {
      template: JSON.parse(
        readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as CfnTemplate,
      output,
    };
  }
  /** The template; throws with osls's output when packaging fails. */
  function packaged(args: string[], params: Record<string, string> = {}): CfnTemplate {
    const { template, output } = osls(args, params);
    if (!template) throw new Error(`osls package ${args.join(' ')} failed:\n${output}`);
    return template;
  }
  return { osls, packaged };
}
