/**
 * Characters no name or contact field may hold: they render nothing, or reorder or hide what is
 * shown, so a console or an audit reader would see something other than what is stored.
 */

/** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Unicode's format characters (`\p{Cf}`), which display nothing or change how the rest displays:
 * bidirectional marks, embeddings, overrides and isolates (U+061C, U+200E, U+200F, U+202A-U+202E,
 * U+2066-U+2069: U+202E writes `txt.exe` as `exe.txt`), zero-width characters (U+200B-U+200D,
 * U+2060, U+FEFF), the soft hyphen, invisible operators and tags.
 */
export const INVISIBLE_CHARACTERS = /\p{Cf}/u;

export const INVISIBLE_MESSAGE = (field: string) =>
  `${field} must not contain bidirectional or invisible formatting characters`;

/**
 * The text a reader sees once whitespace and invisible characters are gone: a key split by
 * spaces, newlines or zero-width characters is still a key to anyone who copies it.
 */
export function withoutSpacing(text: string): string {
  return text.replace(/[\s\p{Cf}]+/gu, '');
}
