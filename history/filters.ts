import type { Attributes } from './attributes.js';
import { anyGlob, type PathMatcher } from './glob.js';

/** Why a file was left out of the examples. */
export type SkipReason =
  | 'not-a-file' // symlink, submodule, or a path git cannot hand us as UTF-8
  | 'excluded' // an --exclude glob, or no --include glob matched
  | 'lockfile'
  | 'vendored'
  | 'generated'
  | 'not-code'
  | 'too-large'
  | 'binary'
  | 'unreadable'; // git could not read the blob (corrupt, or absent from a partial clone or mirror); never fetched

export interface FileFilterOptions {
  /** Globs a path must match (any); when given, they replace the code-extension test. */
  include?: string[];
  /** Globs that remove a path. */
  exclude?: string[];
  /** Files larger than this (before or after a change) are skipped. Default 1 MB. */
  maxFileBytes?: number;
  /** Extensions (without dot) counted as code. Default: {@link DEFAULT_CODE_EXTENSIONS}. */
  codeExtensions?: string[];
  /** Whole file names counted as code (Makefile, ...). Default: {@link DEFAULT_CODE_FILENAMES}. */
  codeFileNames?: string[];
}

export const DEFAULT_MAX_FILE_BYTES = 1_000_000;

export const DEFAULT_CODE_EXTENSIONS: readonly string[] = [
  'py',
  'pyi',
  'js',
  'mjs',
  'cjs',
  'jsx',
  'ts',
  'mts',
  'cts',
  'tsx',
  'go',
  'rs',
  'java',
  'kt',
  'kts',
  'c',
  'h',
  'cc',
  'cpp',
  'cxx',
  'hpp',
  'hh',
  'hxx',
  'cs',
  'fs',
  'rb',
  'php',
  'swift',
  'scala',
  'lua',
  'sh',
  'bash',
  'zsh',
  'fish',
  'ps1',
  'sql',
  'm',
  'mm',
  'r',
  'jl',
  'dart',
  'ex',
  'exs',
  'erl',
  'hrl',
  'hs',
  'ml',
  'mli',
  'clj',
  'cljs',
  'groovy',
  'gradle',
  'pl',
  'pm',
  'vue',
  'svelte',
  'zig',
  'nim',
  'elm',
  'v',
  'sv',
  'vhd',
  'f90',
  'cu',
  'cuh',
  'proto',
  'graphql',
  'sol',
  'tf',
  'cmake',
];

export const DEFAULT_CODE_FILENAMES: readonly string[] = ['Makefile', 'Dockerfile', 'Rakefile', 'CMakeLists.txt'];

export const LOCK_FILES: readonly string[] = [
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'bun.lockb',
  'Cargo.lock',
  'poetry.lock',
  'Pipfile.lock',
  'uv.lock',
  'pdm.lock',
  'go.sum',
  'composer.lock',
  'Gemfile.lock',
  'mix.lock',
  'flake.lock',
  'pubspec.lock',
  'Package.resolved',
  'packages.lock.json',
  'gradle.lockfile',
];

/** Directories whose contents are someone else's code or build output. */
export const VENDORED_GLOBS: readonly string[] = [
  'node_modules/',
  'vendor/',
  'third_party/',
  'third-party/',
  'bower_components/',
  'dist/',
  'build/',
];

export const GENERATED_GLOBS: readonly string[] = [
  '*.min.js',
  '*.min.mjs',
  '*.min.css',
  '*_pb2.py',
  '*_pb2_grpc.py',
  '*.pb.go',
  '*.pb.cc',
  '*.pb.h',
];

/** linguist's reading of an attribute: set or "true" is true, unset or "false" is false, else no opinion. */
function linguistFlag(attrs: Attributes, name: string): boolean | undefined {
  const v = attrs.get(name);
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  return undefined;
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** The path-only checks; size and content are judged where the bytes are known. */
export class FileFilter {
  readonly maxFileBytes: number;
  private readonly include: PathMatcher | null;
  private readonly exclude: PathMatcher;
  private readonly vendored = anyGlob(VENDORED_GLOBS, { matchContents: true });
  private readonly generated = anyGlob(GENERATED_GLOBS);
  private readonly extensions: Set<string>;
  private readonly fileNames: Set<string>;
  private readonly locks = new Set(LOCK_FILES);

  constructor(opts: FileFilterOptions = {}) {
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    const globOpts = { braces: true, matchContents: true };
    this.include = opts.include?.length ? anyGlob(opts.include, globOpts) : null;
    this.exclude = anyGlob(opts.exclude ?? [], globOpts);
    this.extensions = new Set((opts.codeExtensions ?? DEFAULT_CODE_EXTENSIONS).map((e) => e.replace(/^\./, '').toLowerCase()));
    this.fileNames = new Set(opts.codeFileNames ?? DEFAULT_CODE_FILENAMES);
  }

  /** A path's skip reason from its name and attributes alone, or null when it may be kept. */
  byPath(path: string, attrs: Attributes): SkipReason | null {
    if (this.exclude(path)) return 'excluded';
    const name = basename(path);
    if (this.locks.has(name)) return 'lockfile';
    if (linguistFlag(attrs, 'linguist-vendored') ?? this.vendored(path)) return 'vendored';
    if (linguistFlag(attrs, 'linguist-generated') ?? this.generated(path)) return 'generated';
    if (this.include) return this.include(path) ? null : 'excluded';
    return this.isCode(name) ? null : 'not-code';
  }

  /** Attributes that make git's diff treat a file as binary (`binary` is `-diff -merge -text`). */
  binaryByAttributes(attrs: Attributes): boolean {
    return attrs.get('diff') === false;
  }

  private isCode(name: string): boolean {
    if (this.fileNames.has(name)) return true;
    const dot = name.lastIndexOf('.');
    return dot > 0 && this.extensions.has(name.slice(dot + 1).toLowerCase());
  }
}
