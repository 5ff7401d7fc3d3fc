// The Brown Corpus (Form C, tagged `word/tag`) to plain English: tags stripped, tokens joined with spaces,
// no space before closing punctuation or after opening brackets and quotes, `` and '' as straight quotes.
// One sentence per line; the caller separates documents with a blank line.

const NO_SPACE_BEFORE = new Set([',', '.', ';', ':', '?', '!', ')', ']', "''", "'"]);
const NO_SPACE_AFTER = new Set(['(', '[', '``', '`']);
const SPELLING: Record<string, string> = { '``': '"', "''": '"', '`': "'" };

/** The word of a `word/tag` token (the tag follows the last slash: `1/2/cd` is the word `1/2`). */
export function stripTag(token: string): string {
  const i = token.lastIndexOf('/');
  return i > 0 ? token.slice(0, i) : token;
}

/** Plain text of one sentence's tokens (already without tags). */
export function joinTokens(words: readonly string[]): string {
  let out = '';
  let glue = true; // no space before the first word
  for (const w of words) {
    if (!glue && !NO_SPACE_BEFORE.has(w)) out += ' ';
    out += SPELLING[w] ?? w;
    glue = NO_SPACE_AFTER.has(w);
  }
  return out;
}

/**
 * Plain text of one tagged Brown file: a line per sentence. The corpus splits sentences at semicolons and
 * then doubles the semicolon (`Ann/np ;/. ;/.`): one is kept, and the clause after it stays on the line.
 */
export function brownFileToText(tagged: string): string {
  let out = '';
  let prev = '';
  for (const line of tagged.split('\n')) {
    const kept = line.split(/\s+/).filter(Boolean).map(stripTag).filter((w) => {
      const doubled = w === ';' && prev === ';';
      prev = w;
      return !doubled;
    });
    if (kept.length === 0) continue;
    if (out !== '') out += out.endsWith(';') ? ' ' : '\n';
    out += joinTokens(kept);
  }
  return out;
}
