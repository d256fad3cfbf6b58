// Command-line flags the way Go's `flag` package reads them, since katran-cli mirrors a Go
// program: one or two dashes before a long name (`-server`, `--lru`), values as
// `-name value` or `-name=value`, booleans only as `-name` or `-name=false`, numbers in
// Go's syntax (0x.., 0o.., 0b.., underscores), the last occurrence wins, `--` ends the
// flags. Unlike Go, arguments after the flags are an error rather than silently ignored.

export type FlagKind = 'bool' | 'string' | 'int64' | 'uint64';

export interface FlagSpec {
  name: string;
  kind: FlagKind;
  usage: string;
  /** Printed default, as Go's PrintDefaults shows it. */
  default?: string;
}

export type FlagValues = Map<string, boolean | string | bigint>;

export class FlagError extends Error {}

const BOOL_WORDS: Record<string, boolean> = {
  1: true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  0: false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** strconv.ParseInt / ParseUint with base 0 and 64 bits. */
function parseGoInteger(text: string, signed: boolean): bigint | 'syntax' | 'range' {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text);
  if (!m) return 'syntax';
  const [, sign, body] = m as unknown as [string, string, string];
  if (sign && !signed) return 'syntax';
  // Underscores only between digits; right after a base prefix counts as between.
  const digitsPart = /^0[xXoObB]/.test(body) ? body.slice(2) : body;
  if (/__|_$/.test(digitsPart) || (digitsPart === body && body.startsWith('_'))) return 'syntax';
  if (/^0[xXoObB]$/.test(body.replace(/_/g, ''))) return 'syntax';
  let digits = body.replace(/_/g, '');
  if (/^0[0-7]+$/.test(digits)) digits = `0o${digits.slice(1)}`; // leading 0: octal
  const magnitude = BigInt(digits);
  const value = sign === '-' ? -magnitude : magnitude;
  const [min, max] = signed ? [-(1n << 63n), (1n << 63n) - 1n] : [0n, (1n << 64n) - 1n];
  return value < min || value > max ? 'range' : value;
}

function convert(spec: FlagSpec, text: string): boolean | string | bigint {
  switch (spec.kind) {
    case 'string':
      return text;
    case 'bool': {
      const b = BOOL_WORDS[text];
      if (b === undefined) throw new FlagError(`invalid boolean value "${text}" for -${spec.name}: parse error`);
      return b;
    }
    case 'int64':
    case 'uint64': {
      const v = parseGoInteger(text, spec.kind === 'int64');
      if (typeof v === 'bigint') return v;
      throw new FlagError(`invalid value "${text}" for flag -${spec.name}: ${v === 'range' ? 'value out of range' : 'parse error'}`);
    }
  }
}

/**
 * Parses argv against `specs`. Returns the flags that were set (defaults are the caller's
 * business) or 'help' for -h / -help / --help.
 */
export function parseGoFlags(argv: readonly string[], specs: readonly FlagSpec[]): FlagValues | 'help' {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values: FlagValues = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      if (i + 1 < argv.length) throw new FlagError(`unexpected argument '${argv[i + 1]}' after --`);
      break;
    }
    if (arg.length < 2 || arg[0] !== '-') throw new FlagError(`unexpected argument '${arg}' (flags start with -)`);
    const body = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    if (body === '' || body[0] === '-' || body[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq < 0 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) {
      if (name === 'h' || name === 'help') return 'help';
      throw new FlagError(`flag provided but not defined: -${name}`);
    }
    let text: string;
    if (eq >= 0) text = body.slice(eq + 1);
    else if (spec.kind === 'bool') text = 'true';
    else {
      if (i + 1 >= argv.length) throw new FlagError(`flag needs an argument: -${name}`);
      text = argv[++i]!;
    }
    values.set(name, convert(spec, text));
  }
  return values;
}

/** Go's PrintDefaults layout: flags sorted by name, usage on the next line. */
export function formatUsage(program: string, specs: readonly FlagSpec[]): string {
  const lines = [`Usage of ${program}:`];
  for (const s of [...specs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const type = s.kind === 'bool' ? '' : s.kind === 'string' ? ' string' : ` ${s.kind === 'int64' ? 'int' : 'uint'}`;
    const dflt = s.default === undefined ? '' : s.kind === 'string' ? ` (default "${s.default}")` : ` (default ${s.default})`;
    lines.push(`  -${s.name}${type}`, `    \t${s.usage}${dflt}`);
  }
  return `${lines.join('\n')}\n`;
}
