/**
 * The browser entry of the self-hosted GraphiQL IDE (bundled by scripts/build-ide.ts).
 * Everything it needs is served by the API itself, so it works with no internet access.
 */
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import 'graphiql/style.css';
import { EXAMPLE_QUERY } from './example';

// Monaco runs its language services in web workers; they are separate bundles next to this one
// (GraphiQL's own setup-workers files assume Vite or webpack).
(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_workerId: string, label: string) {
    const file = label === 'graphql' ? 'graphql.worker.js' : label === 'json' ? 'json.worker.js' : 'editor.worker.js';
    return new Worker(new URL(`./${file}`, import.meta.url));
  },
};

// The endpoint is the page's own URL: the IDE is served on GET by the GraphQL endpoint itself.
const endpoint = window.location.origin + window.location.pathname;
const fetcher = createGraphiQLFetcher({ url: endpoint });

const root = document.getElementById('graphiql');
if (root) {
  createRoot(root).render(<GraphiQL fetcher={fetcher} defaultQuery={EXAMPLE_QUERY} initialQuery={EXAMPLE_QUERY} />);
}
