import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blockEndCut, indentWidth, lineEndCut } from '../../server/block-end.js';
import { balanceBrackets } from '../../server/brackets.js';
import { effectiveMode, postprocess, stopAtFor, type CompletionContext } from '../../server/postprocess.js';
import { dropSuffixRepeat } from '../../server/suffix-repeat.js';

/** A context from a text with the cursor marked by "|". */
function at(marked: string, mode: CompletionContext['mode'] = 'multi-line', languageId = 'python'): CompletionContext {
  const i = marked.indexOf('|');
  return { prefix: marked.slice(0, i), suffix: marked.slice(i + 1), mode, languageId };
}

/** The block-end cut applied, or the whole text when it does not end the block. */
const blockOf = (text: string, lineBefore: string) => text.slice(0, blockEndCut(text, lineBefore) ?? text.length);

describe('end of line and block', () => {
  it('measures indentation with tabs as four columns', () => {
    assert.equal(indentWidth('    x'), 4);
    assert.equal(indentWidth('\t  x'), 6);
    assert.equal(indentWidth('x'), 0);
  });

  it('single-line: cuts at the first line break, and waits while there is none', () => {
    assert.equal(lineEndCut('a = 1\nb = 2'), 5);
    assert.equal(lineEndCut('a = 1'), undefined);
  });

  it("multi-line: cuts before a line dedented below the cursor's block", () => {
    assert.equal(blockOf('x = 1\n    return x\nprint(f())', '    '), 'x = 1\n    return x');
    assert.equal(blockOf('x = 1\n        y = 2\n    return y', '        '), 'x = 1\n        y = 2');
  });

  it('multi-line: cuts at a blank line followed by a dedent (the end of a definition)', () => {
    const text = '\n    return 1\n\ndef g():\n    pass';
    assert.equal(blockOf(text, 'def f():'), '\n    return 1');
  });

  it("multi-line: keeps blank lines inside the block and lines at the block's own level", () => {
    assert.equal(blockOf('\n    y = 1\n\n    return y', 'def f():'), '\n    y = 1\n\n    return y');
    assert.equal(blockOf('\n    y = 1\nelse:\n    y = 2', 'if x:'), '\n    y = 1\nelse:\n    y = 2');
  });

  it('multi-line: does not judge a line before it has a non-blank character', () => {
    // The dedent of "  " might still become "    return": no cut yet.
    assert.equal(blockEndCut('x = 1\n  ', '    '), undefined);
    assert.equal(blockEndCut('x = 1\n  r', '    '), 5);
  });

  it('generation stops where post-processing would cut', () => {
    const stop = stopAtFor(at('def f():\n    |\n'));
    assert.equal(stop('x = 1\n    return x\nfoo()'), 'x = 1\n    return x'.length);
    assert.equal(stopAtFor(at('x = |', 'single-line'))('1\ny = 2'), 1);
  });

  it('a multi-line request with code after the cursor on its line completes a single line', () => {
    assert.equal(effectiveMode(at('print(|)\n')), 'single-line');
    assert.equal(effectiveMode(at('def f():\n    |  \n')), 'multi-line');
  });
});

describe('suffix repeats', () => {
  const ctx = (lineBefore: string, lineAfter: string, nextLines: string[] = []) => ({ lineBefore, lineAfter, nextLines });

  it('drops a tail that repeats the rest of the line', () => {
    assert.equal(dropSuffixRepeat('x > 0:', ctx('if ', ':')), 'x > 0');
    assert.equal(dropSuffixRepeat('a, b) + c', ctx('f(', ') + c')), 'a, b');
  });

  it('keeps a tail of letters that only partly matches the rest of the line (it may be a real word)', () => {
    assert.equal(dropSuffixRepeat('foo', ctx('x = ', 'oops')), 'foo');
  });

  it('asks before shortening, so a call keeps its own closing bracket', () => {
    assert.equal(
      dropSuffixRepeat('g(x)', ctx('f(', ')'), (t) => t !== 'g(x'),
      'g(x)',
    );
  });

  it('drops completed lines that equal the lines after the cursor', () => {
    const next = ['    return total', '', 'def other():'];
    assert.equal(dropSuffixRepeat('total = a + b\n    return total', ctx('    ', '', next)), 'total = a + b');
    assert.equal(dropSuffixRepeat('return total', ctx('    ', '', next)), '');
  });

  it('keeps lines that differ from what follows', () => {
    assert.equal(dropSuffixRepeat('return a + b', ctx('    ', '', ['    return total'])), 'return a + b');
  });
});

describe('bracket balance', () => {
  const single = (text: string, before: string, after = '') =>
    balanceBrackets(text, { before, after, languageId: 'python', allowOpen: false });

  it('keeps balanced completions', () => {
    assert.equal(single('f(a, [1, 2])', 'x = '), 'f(a, [1, 2])');
  });

  it('cuts at a closer that matches nothing opened', () => {
    assert.equal(single('a + b)', 'x = '), 'a + b');
    assert.equal(single('a]', 'f('), 'a');
  });

  it('lets a completion close what its line opened, unless the rest of the line already does', () => {
    assert.equal(single('total)', 'print('), 'total)');
    assert.equal(single('total)', 'print(', ')'), 'total');
    assert.equal(single('g(x))', 'print(', ')'), 'g(x)');
  });

  it('cuts at a bracket the completion opens and nothing closes (single-line)', () => {
    assert.equal(single('x = foo(1, ', ''), 'x = foo');
    assert.equal(balanceBrackets('foo(\n    1,', { before: '', after: '', languageId: 'python', allowOpen: true }), 'foo(\n    1,');
  });

  it('ignores brackets in strings and comments', () => {
    assert.equal(single('")" + s', 'x = ('), '")" + s');
    assert.equal(single('1  # (', 'x = '), '1  # (');
    assert.equal(single('1  // (', 'x = ', ''), '1  // ', 'in Python "//" is floor division, not a comment');
    assert.equal(balanceBrackets('1  // )', { before: 'x = ', after: '', languageId: 'javascript', allowOpen: false }), '1  // )');
  });

  it('cuts at a string the completion opens and leaves open', () => {
    assert.equal(single('"abc', 'x = '), '');
    assert.equal(single('"abc', 'x = ', '"'), '"abc');
  });

  it('continues a string the cursor is in', () => {
    assert.equal(single('world")', 'print("hello ', '")'), 'world"');
  });
});

describe('postprocess', () => {
  it('cuts a single-line completion at the end of the line', () => {
    assert.equal(postprocess('1 + 2\nprint(x)', at('x = |\n', 'single-line')), '1 + 2');
  });

  it('cuts a multi-line completion at the end of the block and trims trailing blank lines', () => {
    const ctx = at('def total(a, b):\n    |\n');
    assert.equal(postprocess('s = a + b\n    return s\n\n\nprint(total(1, 2))\n', ctx), 's = a + b\n    return s');
  });

  it('drops undecodable bytes and control characters and what follows them', () => {
    assert.equal(postprocess('abc\ufffddef', at('x = |', 'single-line')), 'abc');
    assert.equal(postprocess('abc\u0000def', at('x = |', 'single-line')), 'abc');
    assert.equal(postprocess('\u001b[31m', at('x = |', 'single-line')), '');
  });

  it("keeps a call's own closing bracket before the line's closing bracket", () => {
    assert.equal(postprocess('compute(a, b)', at('print(|)\n')), 'compute(a, b)');
    assert.equal(postprocess('compute(a, b))', at('print(|)\n')), 'compute(a, b)');
  });

  it('drops a repeated closing quote and bracket', () => {
    assert.equal(postprocess('world")', at('print("hello |")\n')), 'world');
  });

  it('returns nothing for a completion that only repeats the next line', () => {
    assert.equal(postprocess('return total\n', at('def f():\n    |\n    return total\n')), '');
  });

  it('returns nothing for whitespace', () => {
    assert.equal(postprocess('   \n  ', at('x = |')), '');
  });

  it('turns CRLF into LF', () => {
    assert.equal(postprocess('a = 1\r\n    b = 2', at('def f():\n    |\n')), 'a = 1\n    b = 2');
  });
});

// Issue 17: what a model trained on whole-line middles writes at a cursor past the indentation.
describe('postprocess: what the line already has', () => {
  it("removes the indentation the cursor's line already has", () => {
    assert.equal(postprocess('    return x', at('def f(x):\n    |\n')), 'return x');
    assert.equal(postprocess('        y = 1\n        return y', at('if a:\n    if b:\n        |\n')), 'y = 1\n        return y');
    assert.equal(postprocess('\treturn x', at('def f(x):\n\t|\n')), 'return x', 'a tab for a tab');
    // Deeper than the line: only the line's own indentation is removed.
    assert.equal(postprocess('        x = 1', at('def f():\n    |\n', 'single-line')), '    x = 1');
    // Not at a blank line: leading spaces are the model's own (e.g. after "x =").
    assert.equal(postprocess(' 1', at('x =|\n')), ' 1');
  });

  it('removes leading line breaks at a blank line, and the indentation after them', () => {
    assert.equal(postprocess('\n    return x', at('def f(x):\n    |\n')), 'return x');
    assert.equal(
      postprocess('\n\n        net = None\n        return net', at('    def g(self):\n        |\n')),
      'net = None\n        return net',
    );
    assert.equal(postprocess('\n    return x', at('def f(x):\n    |\n', 'single-line')), 'return x', 'single-line too');
    // After code on the line, a line break is where the completion's next line starts: kept.
    assert.equal(postprocess('\n    return 1', at('def f():|\n')), '\n    return 1');
  });

  it('inserts nothing when the line after the breaks belongs to an outer block', () => {
    assert.equal(postprocess('\ndef g():\n    pass', at('def f():\n    x = 1\n    |\n')), '');
    assert.equal(stopAtFor(at('def f():\n    x = 1\n    |\n'))('\ndef'), 0, 'generation stops there too');
    assert.equal(stopAtFor(at('def f():\n    x = 1\n    |\n'))('\n  '), undefined, 'not judged before a non-blank character');
  });

  it('removes trailing whitespace lines and whitespace at the end of lines', () => {
    assert.equal(postprocess('x = 1\n    \n        \n', at('def f():\n    |\n')), 'x = 1');
    assert.equal(postprocess('x = 1   \n\n    y = 2', at('def f():\n    |\n')), 'x = 1\n\n    y = 2');
    assert.equal(
      postprocess('x = 1\n        \n    y = 2', at('def f():\n    |\n')),
      'x = 1\n\n    y = 2',
      'a blank line inside stays, empty',
    );
  });

  it('generation stops where post-processing cuts, after the repeated start', () => {
    const ctx = at('def f():\n    |\n    \nprint(1)\n');
    const raw = '\n    y = 1\n    return y\nprint(2)';
    const end = stopAtFor(ctx)(raw);
    assert.equal(raw.slice(0, end), '\n    y = 1\n    return y');
    assert.equal(postprocess(raw, ctx), 'y = 1\n    return y');
  });
});

describe('postprocess: a completion that restarts the line', () => {
  it('drops the indentation and the code typed so far when the model writes the line again', () => {
    assert.equal(postprocess('    def __init__(self):', at('class A:\n    def |\n', 'single-line')), '__init__(self):');
    assert.equal(
      postprocess('        self._check(algorithms)', at('    def f(self):\n        self._algorithms = |\n', 'single-line')),
      'self._check(algorithms)',
    );
    assert.equal(postprocess('  x, y', at('print(|)\n')), 'x, y', 'after an opening bracket');
  });

  it('keeps a space the line needs after code that ends without one', () => {
    assert.equal(postprocess(' 1', at('x =|\n')), ' 1');
    assert.equal(postprocess(' in range(3):', at('for i|\n')), ' in range(3):');
  });
});
