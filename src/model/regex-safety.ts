/**
 * A static check of the regexes a tokenizer.json gives its normalizer and pre-tokenizer (pure).
 *
 * Why static: the Rust `tokenizers` library runs these patterns with Oniguruma, and a pattern that
 * backtracks exponentially (`(a+)+$` on "aaaa…!") makes Oniguruma hit its retry limit; the library
 * then panics, the panic cannot unwind through Node-API, and the whole process aborts. So the
 * pattern must never run in this process before it is known to be safe. A probe in a child process
 * would cost a process start at every cold start and would only prove the inputs it tried. The
 * shapes that backtrack exponentially are structural, and are refused here: a repeated group
 * (`*`, `+`, `{n,}`, `{n,m}` with m > 1) whose body can itself repeat without bound or holds
 * alternatives. The patterns of mainstream tokenizers (GPT-2's, Llama 3's, Qwen's, Metaspace
 * replacements) have neither, so they pass.
 */

/** Why `pattern` can backtrack exponentially, or null. */
export function backtrackingProblem(pattern: string): string | null {
  interface Frame {
    start: number;
    /** The body has a quantifier without upper bound. */
    unbounded: boolean;
    /** The body has `|` at its own level. */
    alternation: boolean;
  }
  const stack: Frame[] = [{ start: 0, unbounded: false, alternation: false }];
  let i = 0;
  /** After an atom at [from, i): reads its quantifier, if any, and returns its maximum count. */
  const quantifier = (): number => {
    const c = pattern[i];
    let max = 1;
    if (c === '*' || c === '+') {
      max = Infinity;
      i++;
    } else if (c === '?') {
      i++;
    } else if (c === '{') {
      const m = /^\{(\d*)(,(\d*))?\}/.exec(pattern.slice(i));
      if (!m) return 1;
      max = m[2] === undefined ? Number(m[1] || 0) : m[3] === '' || m[3] === undefined ? Infinity : Number(m[3]);
      i += m[0].length;
    } else {
      return 1;
    }
    // Lazy (`?`) or possessive (`+`) suffix.
    if (pattern[i] === '?' || pattern[i] === '+') i++;
    return max;
  };
  const top = (): Frame => stack[stack.length - 1]!;

  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      // An escape: one character, or a bracketed one (\p{L}, \x{41}, \k<name>).
      i += 2;
      if (/[{<]/.test(pattern[i] ?? '') && /[pPxkgu]/i.test(pattern[i - 1] ?? '')) {
        const close = pattern.indexOf(pattern[i] === '{' ? '}' : '>', i);
        i = close === -1 ? pattern.length : close + 1;
      }
      if (quantifier() === Infinity) top().unbounded = true;
    } else if (c === '[') {
      i = skipClass(pattern, i);
      if (quantifier() === Infinity) top().unbounded = true;
    } else if (c === '(') {
      stack.push({ start: i, unbounded: false, alternation: false });
      i++;
      // Group kinds: (?:, (?i:, (?<name>, (?=, (?!, (?<=, (?<!, (?>, and a bare (?i) option setting.
      if (pattern[i] === '?') {
        const m = /^\?(?:[imx-]*:|[imx-]+\)|<[A-Za-z_]\w*>|'[A-Za-z_]\w*'|<?[=!]|>|#[^)]*\))?/.exec(pattern.slice(i));
        if (m && m[0].endsWith(')')) {
          // An option setting or a comment: no group was opened.
          stack.pop();
        }
        i += m ? m[0].length : 1;
      }
    } else if (c === ')') {
      const frame = stack.length > 1 ? stack.pop()! : top();
      i++;
      const max = quantifier();
      if (max > 1 && (frame.unbounded || frame.alternation)) {
        const group = pattern.slice(frame.start, i);
        return `the repeated group ${group} ${frame.unbounded ? 'repeats something without bound inside' : 'repeats a choice of alternatives'}`;
      }
      if (frame.unbounded || max === Infinity) top().unbounded = true;
    } else if (c === '|') {
      top().alternation = true;
      i++;
    } else {
      i++;
      if (quantifier() === Infinity) top().unbounded = true;
    }
  }
  return null;
}

/** The index just past the character class that starts at `open` (`[`), nested classes included. */
function skipClass(pattern: string, open: number): number {
  let depth = 0;
  let i = open;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === '[') {
      depth++;
      i++;
      if (pattern[i] === '^') i++;
      // A `]` first in a class is a literal.
      if (pattern[i] === ']') i++;
      continue;
    }
    if (c === ']') {
      depth--;
      i++;
      if (depth === 0) return i;
      continue;
    }
    i++;
  }
  return i;
}

/** Every `{"Regex": "…"}` pattern in a parsed tokenizer.json, with where it is (`pre_tokenizer.pretokenizers[0].pattern`). */
export function regexPatterns(value: unknown, at = ''): Array<{ at: string; pattern: string }> {
  if (Array.isArray(value)) return value.flatMap((v, i) => regexPatterns(v, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return [];
  const out: Array<{ at: string; pattern: string }> = [];
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'Regex' && typeof v === 'string') out.push({ at, pattern: v });
    // The vocabulary and merges hold no patterns and are most of the file.
    else if (key !== 'vocab' && key !== 'merges') out.push(...regexPatterns(v, at ? `${at}.${key}` : key));
  }
  return out;
}
