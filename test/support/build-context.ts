import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { matchesGlob } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The patterns of a .dockerignore file, in order. */
export function ignorePatterns(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Whether Docker sends `path` to the builder: the last pattern that matches decides,
 * and `!` re-includes. A lone `**` matches every path, dotfiles too, as in Docker
 * (node's glob leaves dotfiles out of `**`).
 */
export function inContext(path: string, patterns: string[]): boolean {
  let included = true;

  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    const glob = negated ? pattern.slice(1) : pattern;
    if (glob === '**' || matchesGlob(path, glob)) included = negated;
  }
  return included;
}

/**
 * The files a `docker build .` of this working tree would send: every file git knows
 * or would add (a fresh clone has just these), less what .dockerignore leaves out.
 */
export async function buildContext(): Promise<Set<string>> {
  const patterns = ignorePatterns(await readFile(`${ROOT}/.dockerignore`, 'utf8'));
  const { stdout } = await run(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', '--deduplicate'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );

  const files = stdout.split('\n').filter((path) => path !== '');
  return new Set(files.filter((path) => inContext(path, patterns)));
}
