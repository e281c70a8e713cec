/**
 * The layers of src/ and the direction of their imports, checked by dependency-cruiser
 * (test/unit/layers.test.ts runs it in `npm test`). Lowest first; a layer imports only the layers
 * listed as its `may`, never one above it:
 *
 *   entries  src/*.ts, src/*.mts (handler, lambda, lambda-model, local-server)
 *   server   src/server/       Apollo assembly, the request core, transports' shared parts, cache, logs, metrics
 *   resolvers src/resolvers/   one file per field group; the per-request DataLoader
 *   generated src/generated/   codegen's resolver types (from schema/ and src/api's types)
 *   api      src/api/          the API's contract: errors and their table, context type, request scope
 *   loading  src/model/loading/ model sources, the per-container provider
 *   engine   src/model/*.ts    the QA engine (its errors.ts is the model layer's lowest file)
 *   runtime  src/model/onnxruntime/  onnxruntime loaded on first use, and warmed up
 *   support  src/support/      JSON log lines, INIT timings, owned temp folders, the env parser, the CORS policy
 *
 * Leaves beside them, which may use src/support only: src/ide (served by the server), src/client
 * and src/demo (browser code; the demo uses the client).
 * ARCHITECTURE.md, "The layers", shows the same table (test/docs/architecture.test.ts checks it).
 */
const LAYERS = {
  support: { path: '^src/support/', may: [] },
  runtime: { path: '^src/model/onnxruntime/', may: ['support', 'engineErrors'] },
  engineErrors: { path: '^src/model/errors\\.ts$', may: [] },
  engine: { path: '^src/model/[^/]+\\.ts$', may: ['support', 'runtime', 'engineErrors'] },
  loading: { path: '^src/model/loading/', may: ['support', 'runtime', 'engine', 'engineErrors'] },
  api: { path: '^src/api/', may: ['support', 'engine', 'engineErrors', 'loading'] },
  generated: { path: '^src/generated/', may: ['engine', 'loading', 'api'] },
  resolvers: { path: '^src/resolvers/', may: ['support', 'engine', 'engineErrors', 'loading', 'api', 'generated'] },
  ide: { path: '^src/ide/', may: ['support'] },
  server: {
    path: '^src/server/',
    may: ['support', 'runtime', 'engine', 'engineErrors', 'loading', 'api', 'generated', 'resolvers', 'ide'],
  },
  client: { path: '^src/client/', may: ['support'] },
  demo: { path: '^src/demo/', may: ['support', 'client'] },
};

const pathOf = (name) => LAYERS[name].path;

const layerRules = Object.entries(LAYERS).map(([name, layer]) => ({
  name: `layer-${name}`,
  comment: `${layer.path} may import only itself and: ${layer.may.join(', ') || 'nothing else of src'}`,
  severity: 'error',
  from: { path: layer.path },
  to: {
    path: '^src/',
    pathNot: [layer.path, ...layer.may.map(pathOf)],
  },
}));

/** A rule forbidding imports from `from` (a path pattern) to `to` (dependency-cruiser's "to" object). */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from: { path: from }, to });

module.exports = {
  forbidden: [
    ...layerRules,
    forbid('entries-at-the-top', 'Nothing under src/<folder>/ imports an entry (src/*.ts, src/*.mts).', '^src/[^/]+/', {
      path: '^src/[^/]+\\.m?ts$',
    }),
    forbid(
      'src-not-into-scripts-or-test',
      'Production code never reaches into scripts/ or test/ (the demo model generator is handed in by scripts/start.ts).',
      '^src/',
      { path: '^(scripts|test)/' },
    ),
    forbid(
      'hub-only-where-injected',
      'The Hub source and client (src/model/loading/hub-*.ts) are reached from src/ only by each other: `npm start` and the model CLI inject them, so the Lambda bundle holds none of them.',
      '^src/(?!model/loading/hub-)',
      { path: '^src/model/loading/hub-' },
    ),
    forbid(
      'product-not-into-the-lab',
      'The product (src/) and its tools (scripts/) never import the lab (bench/): the bench measures the product, never the reverse.',
      '^(src|scripts)/',
      { path: '^bench/' },
    ),
    forbid(
      'model-knows-no-graphql-or-http',
      'The model layer (engine, runtime, loading) and support know nothing of GraphQL, Apollo or the API.',
      '^src/(model|support)/',
      { path: 'node_modules/(graphql|@apollo|dataloader|@escape\\.tech|@aws-lambda-powertools)/' },
    ),
    forbid(
      'no-unresolvable',
      'Every import in src/ resolves (a typo would otherwise slip past the rules above).',
      '^src/',
      { couldNotResolve: true },
    ),
    forbid(
      'no-circular',
      'No import cycles anywhere: src/, scripts/ (the tools), bench/ (the lab) or test/.',
      '^(src|scripts|bench|test)/',
      {
        circular: true,
      },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
  },
};
