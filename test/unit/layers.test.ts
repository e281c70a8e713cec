/**
 * The import direction of src/: dependency-cruiser checks every import against the
 * layers of .dependency-cruiser.cjs (lowest: src/support, then the model, the API contract, the
 * resolvers, the server, the entries) and fails on one that points up, on a cycle, on src/
 * reaching into scripts/ or test/, and on the model importing GraphQL or Apollo.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';

const ROOT = path.resolve(__dirname, '..', '..');
const DEPCRUISE = path.join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Cruise {
  modules: Array<{ source: string; dependencies: Array<{ resolved: string; dependencyTypes: string[] }> }>;
  summary: {
    violations: Array<{ rule: { name: string }; from: string; to: string }>;
    ruleSetUsed: { forbidden: Array<{ name: string }> };
  };
}

function cruise(...roots: string[]): Cruise {
  const out = execFileSync(
    process.execPath,
    [
      DEPCRUISE,
      ...(roots.length > 0 ? roots : ['src']),
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
    ],
    {
      cwd: ROOT,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return JSON.parse(out.toString('utf8')) as Cruise;
}

describe('the layers of src/', () => {
  const result = cruise();

  it('the cruise saw the code: every layer, and the imports between them resolved through tsconfig', () => {
    const sources = new Set(result.modules.map((m) => m.source));
    for (const file of [
      'src/support/json-log.ts',
      'src/model/engine.ts',
      'src/model/loading/provider.ts',
      'src/api/errors.ts',
      'src/resolvers/answer.ts',
      'src/server/apollo.ts',
      'src/handler.ts',
    ]) {
      expect(sources).toContain(file);
    }
    // A downward import that must be in the graph: if imports did not resolve, no rule could fire.
    const context = result.modules.find((m) => m.source === 'src/server/context.ts');
    expect(context?.dependencies.map((d) => d.resolved)).toContain('src/resolvers/answer-loader.ts');
    expect(result.summary.ruleSetUsed.forbidden.map((r) => r.name)).toEqual(
      expect.arrayContaining([
        'layer-resolvers',
        'layer-api',
        'layer-engine',
        'no-circular',
        'src-not-into-scripts-or-test',
      ]),
    );
  });

  it('no import points against the direction', () => {
    const violations = result.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
    expect(violations).toEqual([]);
  });
});

/**
 * The modules evaluated when `from` is imported: every import followed except type-only ones (they
 * are erased), the packages it reaches included (not followed further).
 */
function evaluatedBy(result: Cruise, from: string): Set<string> {
  const bySource = new Map(result.modules.map((m) => [m.source, m]));
  const reached = new Set<string>([from]);
  const queue = [from];
  for (let source = queue.pop(); source !== undefined; source = queue.pop()) {
    for (const dep of bySource.get(source)?.dependencies ?? []) {
      if (dep.dependencyTypes.includes('type-only') || reached.has(dep.resolved)) continue;
      reached.add(dep.resolved);
      queue.push(dep.resolved);
    }
  }
  return reached;
}

describe("the Lambda entry's first import", () => {
  // src/lambda.mts imports src/lambda-model.ts first, which starts the model download; the API is
  // evaluated once the GETs are in flight. Whatever lambda-model.ts evaluates delays every cold
  // start's first GET, so graphql and Apollo must not be among it.
  const result = cruise('src');

  it('evaluates the loader and its S3 client, and neither graphql nor Apollo', () => {
    const evaluated = [...evaluatedBy(result, 'src/lambda-model.ts')];
    expect(evaluated).toEqual(
      expect.arrayContaining(['src/model/loading/provider.ts', 'src/model/loading/s3-object.ts']),
    );
    expect(evaluated.some((m) => m.includes('node_modules/@aws-sdk/client-s3/'))).toBe(true);
    expect(
      evaluated.filter((m) => /node_modules\/(graphql|@apollo|@graphql-tools|@escape\.tech|dataloader)\//.test(m)),
    ).toEqual([]);
  });

  it('would see graphql where it is evaluated: through the API module that raises GraphQL errors', () => {
    expect([...evaluatedBy(result, 'src/api/errors.ts')].some((m) => m.includes('node_modules/graphql/'))).toBe(true);
  });
});

describe('the whole tree', () => {
  const whole = cruise('src', 'scripts', 'bench', 'test');

  it('the product and its tools import nothing of the lab (bench/)', () => {
    expect(whole.modules.some((m) => m.source.startsWith('bench/'))).toBe(true);
    const intoBench = whole.summary.violations
      .filter((v) => v.rule.name === 'product-not-into-the-lab')
      .map((v) => `${v.from} → ${v.to}`);
    expect(intoBench).toEqual([]);
  });

  it('has no import cycle (src/, scripts/, bench/ and test/ cruised together)', () => {
    const result = whole;
    const cycles = result.summary.violations
      .filter((v) => v.rule.name === 'no-circular')
      .map((v) => `${v.from} → ${v.to}`);
    expect(cycles).toEqual([]);
  });

  it('has no file beside a folder of the same name (x.ts next to x/)', () => {
    const twins: string[] = [];
    const walk = (dir: string): void => {
      const entries = readdirSync(path.join(ROOT, dir), { withFileTypes: true });
      const folders = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name));
      for (const entry of entries) {
        if (entry.isDirectory()) walk(path.join(dir, entry.name));
        else if (folders.has(entry.name.replace(/\.[^.]+$/, ''))) twins.push(path.join(dir, entry.name));
      }
    };
    for (const top of ['src', 'scripts', 'bench', 'test']) walk(top);
    expect(twins).toEqual([]);
  });
});
