import type { ColumnType } from '../schema/types.ts';

/**
 * Declared formats for the values of a file that does not use Baton's canonical forms (a partner's list
 * with `31/12/2026` dates and `1.234,56` amounts). A format rewrites a field's text into the canonical
 * form, which the usual parse then checks (a real calendar day, a number in range…):
 *
 * - date: a pattern of `YYYY`, `MM`, `DD` and separators (`DD/MM/YYYY`, `MM-DD-YYYY`, `YYYYMMDD`);
 * - datetime: the same with `HH`, `mm` and optionally `ss` (`DD/MM/YYYY HH:mm`), read as UTC;
 * - integer and decimal: an example of how 1000 (and its hundredths) is written: `1,000.00`, `1.000,00`,
 *   `1 000,00`, `1'000.00`, `1000,00` (decimal) or `1.000`, `1 000` (integer);
 * - boolean: the word for true and the word for false, `yes/no`, `oui/non`, `Y/N` (any case).
 */
export type ReadFormatted = (text: string) => { text: string } | { reason: string };

const TOKENS = {
  YYYY: '(\\d{4})',
  MM: '(\\d{1,2})',
  DD: '(\\d{1,2})',
  HH: '(\\d{1,2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
};
type Token = keyof typeof TOKENS;

function datePattern(format: string, withTime: boolean): { regex: RegExp; order: Token[] } | string {
  const order: Token[] = [];
  let source = '';
  for (let i = 0; i < format.length;) {
    const token = (Object.keys(TOKENS) as Token[]).find((t) => format.startsWith(t, i));
    if (token) {
      if (order.includes(token)) return `${token} appears twice in the format ${format}`;
      order.push(token);
      source += TOKENS[token];
      i += token.length;
    } else {
      if (/[A-Za-z0-9]/.test(format[i]!))
        return `"${format[i]}" in the format ${format} is not one of YYYY, MM, DD${withTime ? ', HH, mm, ss' : ''} nor a separator`;
      source += format[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  const needed: Token[] = withTime ? ['YYYY', 'MM', 'DD', 'HH', 'mm'] : ['YYYY', 'MM', 'DD'];
  const missing = needed.filter((t) => !order.includes(t));
  if (missing.length) return `the format ${format} has no ${missing.join(', ')}`;
  if (!withTime && order.some((t) => !needed.includes(t)))
    return `the format ${format} is for a date: YYYY, MM and DD only`;
  return { regex: new RegExp(`^${source}$`), order };
}

const pad = (value: string | undefined, width = 2) => (value ?? '0').padStart(width, '0');

function numberShape(
  type: 'integer' | 'decimal',
  format: string,
): { thousands: string; decimal: string } | string {
  const shape = type === 'decimal' ? /^1([ .,'])?000([.,])00$/ : /^1([ .,'])?000$/;
  const match = shape.exec(format);
  const example =
    type === 'decimal' ? "1,000.00, 1.000,00, 1 000,00, 1'000.00 or 1000,00" : '1,000, 1.000, 1 000 or 1000';
  if (!match) return `a ${type} format shows how 1000 is written: ${example}; not ${format}`;
  // An integer has no decimal separator: only the thousands one matters.
  const [, thousands = '', decimal = ''] = match;
  if (thousands && thousands === decimal)
    return `the format ${format} uses ${decimal} both between thousands and before decimals`;
  return { thousands, decimal };
}

/** What is wrong with `format` for a column of `type`, or undefined when it is a format Baton reads. */
export function formatProblem(type: ColumnType, format: string): string | undefined {
  const reader = formatReader(type, format);
  return typeof reader === 'string' ? reader : undefined;
}

/** The function that rewrites a field in `format` into the canonical text of `type`, or the problem. */
export function formatReader(type: ColumnType, format: string): ReadFormatted | string {
  switch (type) {
    case 'date':
    case 'datetime': {
      const pattern = datePattern(format, type === 'datetime');
      if (typeof pattern === 'string') return pattern;
      return (text) => {
        const match = pattern.regex.exec(text.trim());
        if (!match) return { reason: `expected a ${type} written ${format}` };
        const part = (token: Token) => {
          const at = pattern.order.indexOf(token);
          return at < 0 ? undefined : match[at + 1];
        };
        const day = `${part('YYYY')}-${pad(part('MM'))}-${pad(part('DD'))}`;
        return {
          text: type === 'date' ? day : `${day}T${pad(part('HH'))}:${pad(part('mm'))}:${pad(part('ss'))}Z`,
        };
      };
    }
    case 'integer':
    case 'decimal': {
      const shape = numberShape(type, format);
      if (typeof shape === 'string') return shape;
      const escape = (c: string) => c.replace(/[.]/, '\\.');
      // Thousands grouped by the separator, or not grouped at all (1.000,50 and 1000,50 alike).
      const whole = shape.thousands ? `(?:\\d{1,3}(?:${escape(shape.thousands)}\\d{3})+|\\d+)` : '\\d+';
      const fraction = type === 'decimal' ? `(?:${escape(shape.decimal)}\\d+)?` : '';
      const digits = new RegExp(`^-?${whole}${fraction}$`);
      return (text) => {
        const trimmed = text.trim();
        if (!digits.test(trimmed)) return { reason: `expected a number written like ${format}` };
        const canonical = shape.thousands ? trimmed.split(shape.thousands).join('') : trimmed;
        return { text: type === 'decimal' ? canonical.replace(shape.decimal, '.') : canonical };
      };
    }
    case 'boolean': {
      const words = format.split('/');
      if (words.length !== 2 || !words[0]!.trim() || !words[1]!.trim())
        return `a boolean format is the word for true, a slash, the word for false (yes/no), not ${format}`;
      const [yes, no] = words.map((w) => w.trim().toLowerCase()) as [string, string];
      if (yes === no) return `the format ${format} uses one word for true and false`;
      return (text) => {
        const word = text.trim().toLowerCase();
        if (word === yes) return { text: 'true' };
        if (word === no) return { text: 'false' };
        return { reason: `expected ${words[0]} or ${words[1]}` };
      };
    }
    case 'string':
      return 'a text column is read as it is: it takes no format';
  }
}
