/**
 * Text from a model (config.json's `_name_or_path`, a bucket key, an error naming a bundle entry)
 * made safe to print on a terminal: control characters (C0, DEL, C1) and bidirectional overrides
 * are written as escapes, so that none can clear the screen, move the cursor, or forge a line.
 */
// eslint-disable-next-line no-control-regex -- control characters are exactly what this escapes
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function forTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
