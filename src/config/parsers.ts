/** Value parsers that read environment strings the way GoTrue (Go's envconfig) reads them. */

const unitMs: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go duration ("90s", "1h30m", "1.5h", "300ms") to milliseconds. A bare number is taken as seconds,
 * as several GoTrue settings accept. Returns undefined when the text is not a duration.
 */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '') return undefined;
  if (/^[+-]?\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  let total = 0;
  for (const part of s.replace(/^[+-]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (unitMs[part[2]!] ?? 0);
  }
  return sign * total;
}

/** Go's strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  const s = text.trim();
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** A comma list, trimmed, empty items dropped. */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

/**
 * GOTRUE_PASSWORD_REQUIRED_CHARACTERS: character sets separated by ':'; a '\:' keeps a colon inside a set.
 */
export function parseRequiredCharacters(text: string): string[] {
  const sets: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === ':') {
      current += ':';
      i++;
    } else if (c === ':') {
      if (current !== '') sets.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current !== '') sets.push(current);
  return sets;
}

/**
 * GOTRUE_SMS_TEST_OTP: `phone=code` pairs separated by commas. Phones are kept as digits only (how they are
 * stored), so `+1 555 123 4567=123456` and `15551234567=123456` name the same phone. Undefined when malformed.
 */
export function parseTestOtp(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const pair of parseList(text)) {
    const [phone, code, ...rest] = pair.split('=');
    const digits = (phone ?? '').replace(/[\s\-().+]/g, '');
    if (rest.length > 0 || !/^\d{2,15}$/.test(digits) || !code || !/^\d+$/.test(code.trim())) return undefined;
    out[digits] = code.trim();
  }
  return out;
}
