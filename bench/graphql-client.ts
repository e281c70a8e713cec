/** A minimal GraphQL-over-HTTP client: keep-alive, JSON, and a hard failure on any GraphQL error. */
import http from 'node:http';

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export async function postGraphQL(url: string, query: string, variables: Record<string, unknown>): Promise<unknown> {
  const body = JSON.stringify({ query, variables });
  let text: string;
  try {
    text = await post(url, body);
  } catch (error) {
    // A kept-alive socket the server closed (its 5 s idle timeout) just as we reused it: the
    // request never reached the server, so sending it again is safe (Node's documented pattern).
    if ((error as { reusedSocket?: boolean }).reusedSocket) text = await post(url, body);
    else throw error;
  }
  const parsed = JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string }> };
  if (parsed.errors?.length) throw new Error(`GraphQL error: ${parsed.errors.map((e) => e.message).join('; ')}`);
  return parsed.data;
}

function post(url: string, body: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const out = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${out.slice(0, 300)}`));
          else resolve(out);
        });
        res.on('error', reject);
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ECONNRESET' && req.reusedSocket ? Object.assign(error, { reusedSocket: true }) : error),
    );
    req.end(body);
  });
}

export const ANSWER_QUERY =
  'query Answer($q: String!, $c: String!) { answer(question: $q, context: $c) { text score start end } }';

/** One request with `n` aliased `answer` fields: every field reaches the engine in one answerMany call. */
export function aliasedAnswerQuery(n: number): string {
  const vars = Array.from({ length: n }, (_, i) => `$q${i}: String!, $c${i}: String!`).join(', ');
  const fields = Array.from(
    { length: n },
    (_, i) => `a${i}: answer(question: $q${i}, context: $c${i}) { text score start end }`,
  ).join(' ');
  return `query Many(${vars}) { ${fields} }`;
}

export function aliasedVariables(inputs: ReadonlyArray<{ question: string; context: string }>): Record<string, string> {
  const vars: Record<string, string> = {};
  inputs.forEach((input, i) => {
    vars[`q${i}`] = input.question;
    vars[`c${i}`] = input.context;
  });
  return vars;
}

export function closeClient(): void {
  agent.destroy();
}
