import { UserError } from '../common/index.js';
import { decodeText } from './decode.js';
import { GitCommandError } from './git.js';
import type { HistoryRepository } from './repository.js';

export interface Person {
  name: string;
  email: string;
  /** ISO 8601 with the person's own UTC offset, as `git log --format=%aI` prints it. */
  date: string;
  /** Seconds since the epoch. */
  time: number;
}

export interface CommitInfo {
  sha: string;
  parents: string[];
  tree: string;
  author: Person;
  committer: Person;
  /** First paragraph of the message, its lines joined by spaces (git's `%s`). */
  subject: string;
  /** The rest of the message after the blank line (git's `%b`), trimmed. */
  body: string;
  /** subject, and body after a blank line when there is one. */
  message: string;
}

export interface ListCommitsOptions {
  /** Follow every parent (all commits reachable) instead of the first-parent chain. */
  allParents?: boolean;
}

function isoWithOffset(time: number, tz: string): string {
  const sign = tz[0] === '-' ? -1 : 1;
  const minutes = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
  const local = new Date((time + minutes * 60) * 1000).toISOString().slice(0, 19);
  return `${local}${tz[0] === '-' ? '-' : '+'}${tz.slice(1, 3)}:${tz.slice(3, 5)}`;
}

function parsePerson(value: string): Person {
  const m = /^(.*?) ?<([^>]*)> (\d+) ([+-]\d{4})$/.exec(value);
  if (!m) return { name: value, email: '', date: new Date(0).toISOString(), time: 0 };
  const time = Number(m[3]);
  return { name: m[1], email: m[2], time, date: isoWithOffset(time, m[4]) };
}

function decodeMessage(bytes: Buffer, encoding: string | undefined): string {
  if (encoding && !/^utf-?8$/i.test(encoding)) {
    try {
      return new TextDecoder(encoding, { fatal: true }).decode(bytes);
    } catch {
      // unknown label or bad bytes: fall through to the generic guess
    }
  }
  return decodeText(bytes).text;
}

/** Splits a message the way git's `%s` and `%b` do. */
export function splitMessage(message: string): { subject: string; body: string } {
  const lines = message.replace(/\r\n/g, '\n').split('\n');
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  const subjectLines: string[] = [];
  for (; i < lines.length && lines[i].trim() !== ''; i++) subjectLines.push(lines[i].trim());
  const body = lines
    .slice(i)
    .join('\n')
    .replace(/^\s*\n/, '')
    .trimEnd();
  return { subject: subjectLines.join(' '), body: body.replace(/^\n+/, '') };
}

/** Parses a raw commit object (`git cat-file commit`). */
export function parseCommitObject(sha: string, data: Buffer): CommitInfo {
  const split = data.indexOf('\n\n');
  const headerText = data.toString('utf8', 0, split < 0 ? data.length : split);
  const messageBytes = split < 0 ? Buffer.alloc(0) : data.subarray(split + 2);
  const headers = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of headerText.split('\n')) {
    // Continuation lines (gpgsig, mergetag) start with a space.
    if (line.startsWith(' ') && last) {
      last[last.length - 1] += '\n' + line.slice(1);
      continue;
    }
    const sp = line.indexOf(' ');
    const key = sp < 0 ? line : line.slice(0, sp);
    const list = headers.get(key) ?? [];
    list.push(sp < 0 ? '' : line.slice(sp + 1));
    headers.set(key, list);
    last = list;
  }
  const message = decodeMessage(messageBytes, headers.get('encoding')?.[0]);
  const { subject, body } = splitMessage(message);
  return {
    sha,
    parents: headers.get('parent') ?? [],
    tree: headers.get('tree')?.[0] ?? '',
    author: parsePerson(headers.get('author')?.[0] ?? ''),
    committer: parsePerson(headers.get('committer')?.[0] ?? ''),
    subject,
    body,
    message: body ? `${subject}\n\n${body}` : subject,
  };
}

function damaged(repo: HistoryRepository, words: string): UserError {
  const first = words
    .replace(/^(fatal|error): /, '')
    .trim()
    .split('\n')[0];
  return new UserError(`cannot read the history of ${repo.path}: ${first} (is the repository damaged? git fsck says more)`);
}

/**
 * The history of the repository's head commit, oldest first: its first-parent chain, or
 * (allParents) every reachable commit, parents before children.
 */
export async function listCommits(repo: HistoryRepository, opts: ListCommitsOptions = {}): Promise<CommitInfo[]> {
  const walk = opts.allParents ? ['--date-order'] : ['--first-parent'];
  let out: string;
  try {
    out = await repo.git.text(['rev-list', '--reverse', ...walk, repo.head, '--']);
  } catch (e) {
    throw damaged(repo, e instanceof GitCommandError ? e.stderr : String(e));
  }
  const shas = out.split('\n').filter(Boolean);
  return Promise.all(
    shas.map(async (sha) => {
      const obj = await repo.cat.read(sha);
      if (!obj || obj.type !== 'commit') throw damaged(repo, `commit ${sha} cannot be read`);
      const info = parseCommitObject(sha, obj.data);
      // A shallow clone's boundary commit names parents that are not there: it is a root here.
      if (repo.shallow.has(sha)) info.parents = [];
      return info;
    }),
  );
}
