import { splitWhitespace } from './text.js';

// sacrebleu's "13a" tokenizer (mteval-v13a.pl), applied the way BLEU applies it: to the
// text with trailing whitespace already removed. The rules run in this order, each
// left to right without overlap, as Python's re.sub does.
const RULES: ReadonlyArray<[RegExp, string]> = [
  // Split off symbols: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
  [/([{-~\[-` -&(-+:-@\/])/gu, ' $1 '],
  // Split off a period or comma unless preceded by a digit...
  [/([^0-9])([.,])/gu, '$1 $2 '],
  // ...or unless followed by a digit.
  [/([.,])([^0-9])/gu, ' $1 $2'],
  // Split off a dash that follows a digit.
  [/([0-9])(-)/gu, '$1 $2 '],
];

/** The tokens that sacrebleu's 13a tokenizer makes of `line`, joined by single spaces. */
export function tokenize13a(line: string): string {
  let s = line.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ');
  if (s.includes('&')) {
    s = s.replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>');
  }
  s = ` ${s} `;
  for (const [pattern, replacement] of RULES) s = s.replace(pattern, replacement);
  return splitWhitespace(s).join(' ');
}
