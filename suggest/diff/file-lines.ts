// A text as lines that keep their terminators, so joining them gives the text back byte for byte
// and "ends without a newline" is simply a last line without one.

/** The lines of `text`, each with its '\n' (the last without one when the text does not end in '\n'). */
export function splitLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

/** Whether most line breaks of `text` are CRLF (a Windows-style file). */
export function usesCrlf(text: string): boolean {
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text[i - 1] === '\r') crlf++;
    else lf++;
  }
  return crlf > lf;
}
