/**
 * ARCHITECTURE.md checked against the code: its layer table is .dependency-cruiser.cjs's layer
 * rules (the rules test/unit/layers.test.ts enforces), row for row and in the same order, each
 * row's files matched by that layer's pattern and its "May import" column equal to the layers the
 * rule allows; its entries are src/'s top-level files; every repository path it or README.md names
 * exists. And README.md stays short enough to read (at most 150 lines).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { parseTables } from './markdown-tables';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');

interface ForbiddenRule {
  name: string;
  from: { path?: string };
  to: { path?: string; pathNot?: string[] };
}

/** A layer as .dependency-cruiser.cjs's `layer-<name>` rule states it. */
interface Layer {
  name: string;
  pattern: string;
  may: string[];
}

function configLayers(): Layer[] {
  const config = createRequire(__filename)(path.join(ROOT, '.dependency-cruiser.cjs')) as {
    forbidden: ForbiddenRule[];
  };
  const rules = config.forbidden.filter((r) => r.name.startsWith('layer-'));
  const nameOf = new Map(rules.map((r) => [r.from.path!, r.name.slice('layer-'.length)]));
  return rules.map((r) => {
    // pathNot is [the layer's own pattern, ...the patterns of the layers it may import].
    const [own, ...allowed] = r.to.pathNot ?? [];
    expect(own).toBe(r.from.path);
    return {
      name: r.name.slice('layer-'.length),
      pattern: r.from.path!,
      may: allowed.map((p) => nameOf.get(p) ?? `(no layer has the pattern ${p})`),
    };
  });
}

const backticked = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** A file a documented path stands for: a folder's `x.ts`, `*` as `x`. */
const sampleFile = (documented: string) => (documented.endsWith('/') ? `${documented}x.ts` : documented.replace('*', 'x'));

describe('ARCHITECTURE.md ⇄ .dependency-cruiser.cjs', () => {
  const layers = configLayers();
  const architecture = read('ARCHITECTURE.md');
  const table = parseTables(architecture).find((t) => t.heading === 'The layers');

  it('reads the config (the layers are there)', () => {
    expect(layers.map((l) => l.name)).toEqual(expect.arrayContaining(['support', 'engine', 'loading', 'api', 'resolvers', 'server']));
    expect(table?.header).toEqual(['Layer', 'Files', 'Job', 'May import']);
  });

  it('the layer table names the config\'s layers, in its order (lowest first)', () => {
    expect(table!.rows.map((row) => backticked(row[0] ?? '')[0])).toEqual(layers.map((l) => l.name));
  });

  it("each row's files are its layer's, and exist", () => {
    for (const [i, row] of table!.rows.entries()) {
      const layer = layers[i]!;
      const files = backticked(row[1] ?? '');
      expect([layer.name, files.length]).toEqual([layer.name, 1]);
      const sample = sampleFile(files[0]!);
      expect([layer.name, sample, new RegExp(layer.pattern).test(sample)]).toEqual([layer.name, sample, true]);
      const onDisk = files[0]!.includes('*') ? path.dirname(files[0]!) : files[0]!;
      expect([layer.name, onDisk, existsSync(path.join(ROOT, onDisk))]).toEqual([layer.name, onDisk, true]);
    }
  });

  it("each row's \"May import\" is what its layer rule allows", () => {
    for (const [i, row] of table!.rows.entries()) {
      const layer = layers[i]!;
      const documented = /^nothing$/i.test(row[3] ?? '') ? [] : backticked(row[3] ?? '');
      expect([layer.name, documented]).toEqual([layer.name, layer.may]);
    }
  });

  it('names every entry (the top-level files of src/)', () => {
    const section = architecture.slice(architecture.indexOf('## The layers'), architecture.indexOf('## A request'));
    const entries = readdirSync(path.join(ROOT, 'src')).filter((f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts'));
    expect(entries.length).toBeGreaterThan(1);
    expect(entries.filter((f) => !section.includes(`\`src/${f}\``))).toEqual([]);
  });
});

describe('the paths the reader is sent to exist', () => {
  for (const file of ['ARCHITECTURE.md', 'README.md']) {
    it(file, () => {
      const named = new Set(
        [...read(file).matchAll(/(?<![\w./-])(?:src|test|scripts|docs)\/[\w./-]*[\w/]/g)].map((m) => m[0]),
      );
      expect(named.size).toBeGreaterThan(3);
      expect([...named].filter((p) => !existsSync(path.join(ROOT, p)))).toEqual([]);
    });
  }
});

describe('README.md', () => {
  it('has at most 150 lines', () => {
    const lines = read('README.md').replace(/\n$/, '').split('\n').length;
    expect(lines).toBeLessThanOrEqual(150);
  });
});
