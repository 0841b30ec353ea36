import { MAX_RENDERED_BYTES, MAX_SUBSTITUTIONS_BYTES } from './mail-messages.js';
import type { MailPayload, MailPersonalization } from './mail-model.js';

/**
 * SendGrid substitutions (`personalizations[].substitutions`): every occurrence of a key in a
 * personalization's subject and content is replaced by its value. One pure module, so that the
 * domain's limits, the SES adapter and the local outbox all see the same rendering.
 *
 * Rendering is ONE pass over the original text: at each position the longest key that starts
 * there is replaced, the scan resumes after it, and replaced text is never scanned again (so a
 * value holding a key, or keys that refer to each other, expand exactly once). Keys match whole
 * code points: never half of a surrogate pair.
 */

export { MAX_RENDERED_BYTES, MAX_SUBSTITUTIONS_BYTES };

export type SubstitutionsProblem = 'empty_key' | 'too_large';

/** The UTF-8 size of a substitution map: every key plus every value. */
export function substitutionsBytes(map: Readonly<Record<string, string>>): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(map)) bytes += utf8Length(key) + utf8Length(value);
  return bytes;
}

/**
 * The size of `text` in UTF-8, as `Buffer.byteLength` counts it (a lone surrogate is 3 bytes,
 * as the replacement character it becomes). In JavaScript: a map holds up to thousands of short
 * strings, for which a call into the runtime costs more than the count.
 */
export function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) bytes += 1;
    else if (isHighSurrogate(unit) && isLowSurrogate(text.charCodeAt(i + 1))) {
      bytes += 2;
      i += 1;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * What makes a map unusable, if anything. An empty key would match between every two
 * characters (the 2 KB request that rendered as 400 KB); SendGrid's tags are never empty.
 */
export function substitutionsProblems(
  map: Readonly<Record<string, string>>,
): SubstitutionsProblem[] {
  const problems: SubstitutionsProblem[] = [];
  if (Object.hasOwn(map, '')) problems.push('empty_key');
  if (substitutionsBytes(map) > MAX_SUBSTITUTIONS_BYTES) problems.push('too_large');
  return problems;
}

/** Substitutes `map` in `text` (one pass, longest key first). Throws on an unusable map. */
export function substitute(
  text: string,
  map: Readonly<Record<string, string>> | undefined,
): string {
  return compile(map)?.render(text) ?? text;
}

/** A content block as rendered for one personalization. */
export interface RenderedContent {
  type: string;
  value: string;
}

/** What one personalization's message says once its substitutions are applied. */
export interface RenderedMessage {
  /** The personalization's subject, or the message's; absent when neither is set. */
  subject?: string;
  /** Every content block of the message, in order. */
  content: RenderedContent[];
}

/**
 * The subject and content of `personalization`'s message with its substitutions applied: what
 * SES sends and what the outbox stores. Throws on an unusable map (the domain refuses those
 * first, see `mailErrors`).
 */
export function renderMessage(
  payload: MailPayload,
  personalization: MailPersonalization,
): RenderedMessage {
  const substitution = compile(personalization.substitutions);
  const render = (text: string) => substitution?.render(text) ?? text;
  const subject = personalization.subject ?? payload.subject;
  return {
    ...(subject === undefined ? {} : { subject: render(subject) }),
    content: (payload.content ?? []).map((c) => ({ type: c.type, value: render(c.value) })),
  };
}

/**
 * The UTF-8 size of every personalization's {@link renderMessage}, subject and content, without
 * building any of it; the larger of the sizes before and after substitution. Stops as soon as
 * the count passes `limit` (the result then only says "more than `limit`"), and scans nothing
 * unless the text before substitution fits within it, so the work is bounded by `limit`.
 * Every map must be usable ({@link substitutionsProblems}).
 */
export function renderedBytes(payload: MailPayload, limit: number): number {
  const content = payload.content ?? [];
  const contentBytes = content.map((c) => utf8Length(c.value));
  const allContentBytes = contentBytes.reduce((sum, n) => sum + n, 0);
  const messageSubjectBytes = payload.subject === undefined ? 0 : utf8Length(payload.subject);
  const subjectBytes = (p: MailPersonalization) =>
    p.subject === undefined ? messageSubjectBytes : utf8Length(p.subject);

  let before = 0;
  for (const p of payload.personalizations) {
    before += subjectBytes(p) + allContentBytes;
    if (before > limit) return before;
  }
  let after = 0;
  for (const p of payload.personalizations) {
    const substitution = compile(p.substitutions);
    const subject = p.subject ?? payload.subject;
    if (substitution === undefined) after += subjectBytes(p) + allContentBytes;
    else {
      if (subject !== undefined) after += substitution.renderedBytes(subject, subjectBytes(p));
      content.forEach((c, i) => {
        after += substitution.renderedBytes(c.value, contentBytes[i] ?? 0);
      });
    }
    if (after > limit) return after;
  }
  return Math.max(before, after);
}

/**
 * The compiled form of one map, or undefined when it has no keys (the text stays as it is).
 *
 * Why not a regular expression: an alternation of the keys (longest first) has exactly these
 * semantics, but V8 tries the alternatives one by one at each position, so 10,000 bytes of
 * crafted keys (`b`, `ab`, `aab`, …) cost about 0.5 s per MB of text. An Aho-Corasick automaton
 * over the reversed keys finds, in one backward scan, the longest key starting at each position;
 * a forward scan then takes the leftmost, longest matches. Both scans are linear in the text,
 * whatever the keys.
 */
function compile(map: Readonly<Record<string, string>> | undefined): Substitution | undefined {
  if (map === undefined) return undefined;
  const entries = Object.entries(map);
  if (entries.length === 0) return undefined;
  if (Object.hasOwn(map, '')) throw new RangeError('unusable substitutions: an empty key');
  return new Substitution(entries);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/**
 * The automaton is stored flat, because a request may build hundreds of them (one per
 * personalization) and scan megabytes with each: each code point that occurs in a key gets a
 * class (1…n; every other code point is class 0, which always leads back to the root), and the
 * edges live in one map keyed by `node * stride + class`. Keys are non-empty and within 10,000
 * bytes, so there are at most 10,000 of them, 10,001 nodes and 10,001 classes: edge keys stay
 * small integers (below 2^30), and 16 bits hold a node, a class or a key's index.
 */
class Substitution {
  private readonly keyLengths: Uint16Array;
  private readonly values: readonly string[];
  /** UTF-8 size of each value minus that of its key: what one replacement adds. */
  private readonly growth: Int32Array;
  /** Class of each ASCII code point (most text), and of every other code point in a key. */
  private readonly asciiClass = new Uint16Array(128);
  private readonly otherClass = new Map<number, number>();
  private readonly stride: number;
  private readonly edges = new Map<number, number>();
  private readonly failure: Uint16Array;
  /** Per node: 1 + the index of the longest key that is a suffix of the node's path, or 0. */
  private readonly longest: Uint16Array;

  constructor(entries: readonly (readonly [string, string])[]) {
    const count = entries.length;
    this.keyLengths = new Uint16Array(count);
    this.growth = new Int32Array(count);
    const values: string[] = [];
    let units = 0;
    let bytes = 0;
    entries.forEach(([key, value], k) => {
      const keyBytes = utf8Length(key);
      const valueBytes = utf8Length(value);
      bytes += keyBytes + valueBytes;
      units += key.length;
      this.keyLengths[k] = key.length;
      this.growth[k] = valueBytes - keyBytes;
      values.push(value);
    });
    if (bytes > MAX_SUBSTITUTIONS_BYTES) {
      throw new RangeError(`unusable substitutions: over ${MAX_SUBSTITUTIONS_BYTES} bytes`);
    }
    this.values = values;
    this.stride = units + 1;

    // The trie of the reversed keys (read backwards, as the text will be), children as linked
    // lists for the breadth-first walk below.
    const terminal = new Uint16Array(units + 1);
    const firstChild = new Int32Array(units + 1).fill(-1);
    const nextSibling = new Int32Array(units + 1);
    const edgeClass = new Uint16Array(units + 1);
    let nodes = 1;
    let classes = 1;
    entries.forEach(([key], k) => {
      let node = 0;
      for (let i = key.length - 1; i >= 0; i -= 1) {
        let symbol = key.charCodeAt(i);
        if (i > 0 && isLowSurrogate(symbol) && isHighSurrogate(key.charCodeAt(i - 1))) {
          i -= 1;
          symbol = 0x10000 + (key.charCodeAt(i) - 0xd800) * 0x400 + (symbol - 0xdc00);
        }
        let cls = this.classOf(symbol);
        if (cls === 0) {
          cls = classes++;
          if (symbol < 128) this.asciiClass[symbol] = cls;
          else this.otherClass.set(symbol, cls);
        }
        let next = this.edges.get(node * this.stride + cls);
        if (next === undefined) {
          next = nodes++;
          this.edges.set(node * this.stride + cls, next);
          edgeClass[next] = cls;
          nextSibling[next] = firstChild[node] ?? -1;
          firstChild[node] = next;
        }
        node = next;
      }
      terminal[node] = k + 1;
    });

    // Failure links breadth first, so that a node's failure target (a shorter path) is
    // complete before the node itself.
    this.failure = new Uint16Array(nodes);
    this.longest = new Uint16Array(nodes);
    const queue = new Int32Array(nodes);
    let tail = 1;
    for (let head = 0; head < tail; head += 1) {
      const node = queue[head] ?? 0;
      for (let child = firstChild[node] ?? -1; child >= 0; child = nextSibling[child] ?? -1) {
        const fallback = node === 0 ? 0 : this.step(this.failure[node] ?? 0, edgeClass[child] ?? 0);
        this.failure[child] = fallback;
        this.longest[child] = terminal[child] || (this.longest[fallback] ?? 0);
        queue[tail++] = child;
      }
    }
  }

  /** The text with every match replaced. */
  render(text: string): string {
    const starts = this.matchStarts(text);
    const parts: string[] = [];
    let copied = 0;
    for (let i = 0; i < text.length; ) {
      const match = starts[i] ?? 0;
      if (match === 0) {
        i += 1;
        continue;
      }
      parts.push(text.slice(copied, i), this.values[match - 1] ?? '');
      i += this.keyLengths[match - 1] ?? 1;
      copied = i;
    }
    if (copied === 0) return text;
    parts.push(text.slice(copied));
    return parts.join('');
  }

  /**
   * The UTF-8 size of {@link render}'s result, from `textBytes` (the text's own size). Exact,
   * except that a lone surrogate at the edge of a value that pairs up with its neighbour is
   * counted as two lone halves (6 bytes rather than 4): never less than the real size.
   */
  renderedBytes(text: string, textBytes: number): number {
    const starts = this.matchStarts(text);
    let bytes = textBytes;
    for (let i = 0; i < text.length; ) {
      const match = starts[i] ?? 0;
      if (match === 0) {
        i += 1;
        continue;
      }
      bytes += this.growth[match - 1] ?? 0;
      i += this.keyLengths[match - 1] ?? 1;
    }
    return bytes;
  }

  /**
   * For each code unit index where a code point starts, 1 + the index of the longest key
   * starting there, or 0. One backward scan: the automaton reads the text reversed, so a
   * reversed key ending at a position is a key starting there.
   */
  private matchStarts(text: string): Uint16Array {
    const starts = new Uint16Array(text.length);
    const longest = this.longest;
    let node = 0;
    for (let i = text.length - 1; i >= 0; i -= 1) {
      let symbol = text.charCodeAt(i);
      if (i > 0 && isLowSurrogate(symbol) && isHighSurrogate(text.charCodeAt(i - 1))) {
        i -= 1;
        symbol = 0x10000 + (text.charCodeAt(i) - 0xd800) * 0x400 + (symbol - 0xdc00);
      }
      const cls = this.classOf(symbol);
      node = cls === 0 ? 0 : this.step(node, cls);
      if (node !== 0) starts[i] = longest[node] ?? 0;
    }
    return starts;
  }

  private classOf(symbol: number): number {
    return symbol < 128 ? (this.asciiClass[symbol] ?? 0) : (this.otherClass.get(symbol) ?? 0);
  }

  /** The automaton's transition: the longest path that the current one plus `cls` ends with. */
  private step(from: number, cls: number): number {
    let node = from;
    for (;;) {
      const next = this.edges.get(node * this.stride + cls);
      if (next !== undefined) return next;
      if (node === 0) return 0;
      node = this.failure[node] ?? 0;
    }
  }
}
