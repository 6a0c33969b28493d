// The text Python's `json.dumps(value, indent=2, sort_keys=True)` gives, which is how PEFT writes
// adapter_config.json: same key order, separators, ASCII escapes and float spelling.

/** Python's repr of a float: always a '.' or an exponent, exponent form below 1e-4 and from 1e16. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) {
    const s = String(x);
    return s.includes('.') || s.includes('e') ? s : `${s}.0`;
  }
  const [mant, exp] = x.toExponential().split('e');
  const e = Number(exp);
  return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function pythonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (code < 0x20 || code > 0x7e) {
      // ensure_ascii: every non-ASCII code unit as \uXXXX (astral characters as their surrogate pair).
      for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return `${out}"`;
}

const sortKeys = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * `value` as Python would dump it. JSON has one number type and Python two, so `floatKeys` names
 * the object keys whose numbers are Python floats (written `0.0`, not `0`).
 */
export function pythonJson(value: unknown, floatKeys: ReadonlySet<string> = new Set(), indent = ''): string {
  const inner = `${indent}  `;
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pythonFloat(value);
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => inner + pythonJson(v, floatKeys, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => sortKeys(a, b));
  if (entries.length === 0) return '{}';
  const item = ([k, v]: [string, unknown]) => {
    const text = typeof v === 'number' && floatKeys.has(k) ? pythonFloat(v) : pythonJson(v, floatKeys, inner);
    return `${inner}${pythonString(k)}: ${text}`;
  };
  return `{\n${entries.map(item).join(',\n')}\n${indent}}`;
}
