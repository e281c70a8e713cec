/**
 * Where a tokenizer puts its special tokens around a (question, context) pair, read from the
 * `post_processor` of a Hugging Face `tokenizer.json`. The engine encodes question and context
 * separately (so the Rust library never truncates) and assembles each window itself from this layout.
 */

export interface SpecialPiece {
  id: number;
  typeId: number;
}

/** `[before] question [between] context [after]`, with the type id of each sequence. */
export interface PairLayout {
  before: SpecialPiece[];
  between: SpecialPiece[];
  after: SpecialPiece[];
  questionTypeId: number;
  contextTypeId: number;
  /** The classifier token whose position scores "no answer" (the reference's `cls_token_id`). */
  clsId: number | null;
  /** Special tokens added to a pair. */
  readonly addedCount: number;
}

// tokenizer.json as parsed: read defensively, field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

function layout(
  before: SpecialPiece[],
  between: SpecialPiece[],
  after: SpecialPiece[],
  questionTypeId: number,
  contextTypeId: number,
): PairLayout {
  return {
    before,
    between,
    after,
    questionTypeId,
    contextTypeId,
    clsId: before.length > 0 ? before[0].id : null,
    addedCount: before.length + between.length + after.length,
  };
}

function fromTemplate(pair: Json[], specialTokens: Json): PairLayout {
  const parts: SpecialPiece[][] = [[], [], []];
  let part = 0;
  const typeIds: number[] = [];
  for (const piece of pair) {
    if (piece.Sequence) {
      typeIds.push(piece.Sequence.type_id ?? 0);
      part += 1;
    } else if (piece.SpecialToken) {
      const token = specialTokens[piece.SpecialToken.id];
      if (!token) throw new Error(`tokenizer.json: template names unknown special token ${piece.SpecialToken.id}`);
      for (const id of token.ids as number[]) parts[part].push({ id, typeId: piece.SpecialToken.type_id ?? 0 });
    }
  }
  if (typeIds.length !== 2) throw new Error('tokenizer.json: the pair template must hold sequences A and B');
  return layout(parts[0], parts[1], parts[2], typeIds[0], typeIds[1]);
}

/** The post-processors that place special tokens around a question/context pair. */
export const PAIR_PROCESSORS: readonly string[] = ['TemplateProcessing', 'BertProcessing', 'RobertaProcessing'];

/** The pair processor of a parsed `tokenizer.json` (unwrapped from a Sequence), or null when it has none. */
export function pairProcessorOf(tokenizerJson: Json): Json | null {
  let processor = tokenizerJson.post_processor as Json | null | undefined;
  if (processor?.type === 'Sequence' && Array.isArray(processor.processors)) {
    processor = (processor.processors as Json[]).find((p) => PAIR_PROCESSORS.includes(p?.type));
  }
  return processor && PAIR_PROCESSORS.includes(processor.type) ? processor : null;
}

/**
 * Reads the pair layout from a parsed `tokenizer.json`. Supports the processors question-answering
 * models use: TemplateProcessing (BERT, DistilBERT exports), BertProcessing and RobertaProcessing.
 */
export function pairLayoutFromTokenizerJson(tokenizerJson: Json): PairLayout {
  const processor = pairProcessorOf(tokenizerJson);
  if (!processor) {
    const found = tokenizerJson.post_processor as Json | null | undefined;
    if (found && found.type !== 'Sequence') throw new Error(`tokenizer.json: unsupported post_processor ${found.type}`);
    throw new Error('tokenizer.json has no post_processor: cannot tell where [CLS]/[SEP] go');
  }
  switch (processor.type) {
    case 'TemplateProcessing':
      return fromTemplate(processor.pair, processor.special_tokens);
    case 'BertProcessing': {
      const cls = { id: processor.cls[1] as number, typeId: 0 };
      const sep = (typeId: number) => ({ id: processor!.sep[1] as number, typeId });
      return layout([cls], [sep(0)], [sep(1)], 0, 1);
    }
    case 'RobertaProcessing': {
      const cls = { id: processor.cls[1] as number, typeId: 0 };
      const sep = { id: processor.sep[1] as number, typeId: 0 };
      return layout([cls], [sep, sep], [sep], 0, 0);
    }
    default:
      throw new Error(`tokenizer.json: unsupported post_processor ${processor.type}`);
  }
}
