/**
 * Child of tokenizer-regex.test.ts: loads a tokenizer.json and encodes one text, in a process of its
 * own, because a pattern that backtracks makes the Rust library abort the whole process.
 * argv: <tokenizer.json path> <text>. Prints `refused: <message>` or `encoded <n> tokens`.
 */
import { readFileSync } from 'node:fs';
import { QATokenizer } from '../../src/model/tokenizer';

async function main(): Promise<void> {
  const [file, text] = process.argv.slice(2);
  let tokenizer: QATokenizer;
  try {
    tokenizer = QATokenizer.fromJson(readFileSync(file!, 'utf8'));
  } catch (error) {
    console.log(`refused: ${(error as Error).message}`);
    return;
  }
  const encoded = await tokenizer.encode(text!);
  console.log(`encoded ${encoded.ids.length} tokens`);
}

void main();
