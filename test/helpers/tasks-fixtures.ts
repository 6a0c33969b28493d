// Small crafted source files whose functions, signatures and blocks are known row by row.
import type { SourceFile } from '../../eval/index.js';

export const PYTHON = [
  'import os', //                0
  '', //                         1
  '', //                         2
  '@decorator', //               3
  'def first(a,', //             4  signature
  '          b):', //            5  signature
  '    total = a + b', //        6
  '    return total', //         7
  '', //                         8
  '', //                         9
  'def one_liner(x): return x', // 10 one-line function: no body line
  '', //                         11
  '', //                         12
  'class Box:', //               13
  '    def method(self):', //    14 signature
  '        def inner(y):', //    15 signature of inner, inside method's body
  '            return y', //     16
  '        return inner(1)', //  17
  '',
].join('\n');

export const TYPESCRIPT = [
  'export function greet(name: string): string {', // 0 signature
  '  const greeting = `hello ${name}`;', //            1
  '  return greeting;', //                             2
  '}', //                                              3
  '', //                                               4
  'export const twice = (n: number) => {', //          5 signature
  '  return n * 2;', //                                6
  '};', //                                             7
  '', //                                               8
  'const short = (x: number) => x + 1;', //            9 expression body: no body line
  '', //                                               10
  'class Counter {', //                                11
  '  private value = 0;', //                           12
  '  increment(by: number): number {', //              13 signature
  '    if (by > 0) {', //                              14
  '      this.value += by;', //                        15
  '    }', //                                          16
  '    return this.value;', //                         17
  '  }', //                                            18
  '}', //                                              19
  '',
].join('\n');

/** Functions that have body lines: [signature first, last, body first, last]. */
export const PYTHON_FUNCTIONS = [
  [4, 5, 6, 7],
  [14, 14, 15, 17],
  [15, 15, 16, 16],
];
export const TYPESCRIPT_FUNCTIONS = [
  [0, 0, 1, 2],
  [5, 5, 6, 6],
  [13, 13, 14, 17],
];
export const PYTHON_SIGNATURE_ROWS = new Set([4, 5, 10, 14, 15]);
export const TYPESCRIPT_SIGNATURE_ROWS = new Set([0, 5, 9, 13]);

export function files(): SourceFile[] {
  return [
    { path: 'pkg/box.py', text: PYTHON, language: 'python' },
    { path: 'src/greet.ts', text: TYPESCRIPT, language: 'typescript' },
  ];
}

export function rowOf(text: string, offset: number): number {
  return text.slice(0, offset).split('\n').length - 1;
}
