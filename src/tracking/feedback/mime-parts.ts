/**
 * Just enough MIME (RFC 2045–2046) to read reports mail systems send back: the part tree of a message,
 * each part's header fields and decoded body. A general mail parser is no help here: it folds the
 * machine-readable parts of a report (message/delivery-status, message/feedback-report) into the
 * message's text, where their fields can no longer be told from the prose around them.
 */
export interface MimePart {
  /** Field names in lower case, values unfolded; a field given twice keeps its first value. */
  headers: Map<string, string>;
  /** The media type in lower case (`text/plain` when the part names none, as RFC 2045 says). */
  type: string;
  /** Content-Type parameters, names in lower case. */
  params: Record<string, string>;
  /** The body with its transfer encoding undone (text as Latin-1, one character per byte). */
  body: string;
  /** A multipart's parts, in order. */
  parts: MimePart[];
}

/** Parts nested deeper than this are not read: no real report nests more than three. */
const MAX_DEPTH = 8;

/** Header fields (or the field blocks of a report) of a text: `Name: value`, folded lines unfolded. */
export function parseFields(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}

/** The blocks of fields of a report body, separated by blank lines (RFC 3464 §2.1, RFC 5965 §3). */
export function fieldBlocks(text: string): Array<Map<string, string>> {
  return text
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .map(parseFields)
    .filter((block) => block.size > 0);
}

/** `type/subtype; name=value; name="quoted value"` → the type and its parameters. */
export function parseContentType(value: string | undefined): {
  type: string;
  params: Record<string, string>;
} {
  if (!value) return { type: 'text/plain', params: {} };
  const [type = '', ...rest] = splitUnquoted(value, ';');
  const params: Record<string, string> = {};
  for (const param of rest) {
    const equals = param.indexOf('=');
    if (equals <= 0) continue;
    const raw = param.slice(equals + 1).trim();
    params[param.slice(0, equals).trim().toLowerCase()] =
      raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2
        ? raw.slice(1, -1).replace(/\\(.)/g, '$1')
        : raw;
  }
  return { type: type.trim().toLowerCase() || 'text/plain', params };
}

function splitUnquoted(text: string, separator: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    if (char === '\\' && quoted) {
      current += char + (text[++i] ?? '');
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      pieces.push(current);
      current = '';
    } else current += char;
  }
  pieces.push(current);
  return pieces;
}

function decodeBody(body: string, encoding: string | undefined): string {
  switch (encoding?.trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
    case 'quoted-printable':
      return body
        .replace(/=\r?\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    default:
      return body;
  }
}

/** The parts between a multipart's boundary lines; the preamble and epilogue are dropped. */
function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let current: string[] | undefined;
  for (const line of body.split(/\r?\n/)) {
    const trimmed = line.trimEnd();
    if (trimmed === `${delimiter}--`) {
      if (current) parts.push(current.join('\r\n'));
      return parts;
    }
    if (trimmed === delimiter) {
      if (current) parts.push(current.join('\r\n'));
      current = [];
    } else current?.push(line);
  }
  // No closing delimiter (a report cut short): the last part is kept as far as it goes.
  if (current) parts.push(current.join('\r\n'));
  return parts;
}

/** A message (or a part of one) as its tree of parts. */
export function parseMime(source: string | Buffer, depth = 0): MimePart {
  const text = typeof source === 'string' ? source : source.toString('latin1');
  const split = /\r?\n\r?\n/.exec(text);
  const headerText = split ? text.slice(0, split.index) : text;
  const rawBody = split ? text.slice(split.index + split[0].length) : '';
  const headers = parseFields(headerText);
  const { type, params } = parseContentType(headers.get('content-type'));
  const body = decodeBody(rawBody, headers.get('content-transfer-encoding'));
  const parts =
    type.startsWith('multipart/') && params.boundary && depth < MAX_DEPTH
      ? splitMultipart(body, params.boundary).map((part) => parseMime(part, depth + 1))
      : [];
  return { headers, type, params, body, parts };
}

/** The first part (depth first, the part itself included) that `test` accepts. */
export function findPart(part: MimePart, test: (part: MimePart) => boolean): MimePart | undefined {
  if (test(part)) return part;
  for (const child of part.parts) {
    const found = findPart(child, test);
    if (found) return found;
  }
  return undefined;
}
