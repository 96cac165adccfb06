/**
 * Just enough of HTML's tokenizer to find tags and their attributes in a rendered email, with positions,
 * so links can be rewritten in place and everything else is left byte for byte as the author (or MJML)
 * wrote it. It follows the HTML rules that matter for finding tags: case-insensitive names, attribute
 * values in double quotes, single quotes or none, in any order; comments (Outlook's conditional comments
 * included), doctypes and processing instructions are skipped; the content of `script`, `style`,
 * `textarea` and `title` is text, not tags.
 */
export interface HtmlAttribute {
  /** Lower-cased. */
  name: string;
  /** Decoded (`&amp;` → `&`). */
  value: string;
  /** Where the value is written, quotes included (start = end when the attribute has no value). */
  start: number;
  end: number;
}

export interface HtmlTag {
  kind: 'start' | 'end';
  /** Lower-cased. */
  name: string;
  start: number;
  /** Just after the closing `>`. */
  end: number;
  attributes: HtmlAttribute[];
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title']);
const SPACE = /[\t\n\f\r ]/;

export function* scanTags(html: string): Generator<HtmlTag> {
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf('<', i);
    if (open < 0) return;
    if (html.startsWith('<!--', open)) {
      i = skipPast(html, '-->', open + 4);
    } else if (html[open + 1] === '!' || html[open + 1] === '?') {
      i = skipPast(html, '>', open + 2);
    } else if (html[open + 1] === '/' && isLetter(html[open + 2])) {
      const name = readName(html, open + 2);
      const end = skipPast(html, '>', open + 2 + name.length);
      yield { kind: 'end', name: name.toLowerCase(), start: open, end, attributes: [] };
      i = end;
    } else if (isLetter(html[open + 1])) {
      const tag = readStartTag(html, open);
      yield tag;
      i = RAW_TEXT.has(tag.name) ? rawTextEnd(html, tag.name, tag.end) : tag.end;
    } else {
      i = open + 1;
    }
  }
}

function readStartTag(html: string, start: number): HtmlTag {
  const name = readName(html, start + 1);
  const attributes: HtmlAttribute[] = [];
  let i = start + 1 + name.length;
  for (;;) {
    while (i < html.length && (SPACE.test(html[i]!) || html[i] === '/')) i++;
    if (i >= html.length || html[i] === '>') break;
    let nameEnd = i + 1; // a name may start with '=' (HTML keeps it as part of the name)
    while (nameEnd < html.length && !/[\t\n\f\r />=]/.test(html[nameEnd]!)) nameEnd++;
    const attribute = html.slice(i, nameEnd).toLowerCase();
    i = nameEnd;
    while (i < html.length && SPACE.test(html[i]!)) i++;
    if (html[i] !== '=') {
      attributes.push({ name: attribute, value: '', start: nameEnd, end: nameEnd });
      continue;
    }
    i++;
    while (i < html.length && SPACE.test(html[i]!)) i++;
    const valueStart = i;
    let raw: string;
    const quote = html[i];
    if (quote === '"' || quote === "'") {
      const close = html.indexOf(quote, i + 1);
      i = close < 0 ? html.length : close + 1;
      raw = html.slice(valueStart + 1, close < 0 ? html.length : close);
    } else {
      while (i < html.length && !/[\t\n\f\r >]/.test(html[i]!)) i++;
      raw = html.slice(valueStart, i);
    }
    attributes.push({ name: attribute, value: decodeEntities(raw), start: valueStart, end: i });
  }
  return { kind: 'start', name: name.toLowerCase(), start, end: Math.min(i + 1, html.length), attributes };
}

function readName(html: string, start: number): string {
  let end = start;
  while (end < html.length && !/[\t\n\f\r />]/.test(html[end]!)) end++;
  return html.slice(start, end);
}

function isLetter(char: string | undefined): boolean {
  return char !== undefined && /[A-Za-z]/.test(char);
}

function skipPast(html: string, marker: string, from: number): number {
  const at = html.indexOf(marker, from);
  return at < 0 ? html.length : at + marker.length;
}

/** Where a raw-text element's content ends: at its own end tag, whatever the case. */
function rawTextEnd(html: string, name: string, from: number): number {
  const endTag = new RegExp(`</${name}`, 'gi');
  endTag.lastIndex = from;
  return endTag.exec(html)?.index ?? html.length;
}

/**
 * The entities that appear in URLs: `&amp;` (which Liquid's escaping writes for `&`), the other XML ones
 * and numeric references. Other named references are kept as written.
 */
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function decodeEntities(text: string): string {
  return text.replace(/&(#[0-9]{1,7}|#x[0-9a-f]{1,6}|[a-z]+);/gi, (entity, body: string) => {
    if (body.startsWith('#')) {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : Number(body.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return NAMED[body.toLowerCase()] ?? entity;
  });
}

export function escapeAttribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;');
}

/** Every `<a href>` and `<area href>` value replaced by `rewrite(url)` (written in double quotes). */
export function rewriteLinks(html: string, rewrite: (url: string) => string): string {
  const parts: string[] = [];
  let copied = 0;
  for (const tag of scanTags(html)) {
    if (tag.kind !== 'start' || (tag.name !== 'a' && tag.name !== 'area')) continue;
    const href = tag.attributes.find((a) => a.name === 'href');
    if (!href || href.start === href.end) continue;
    // Browsers ignore spaces around a URL; so do we.
    const url = href.value.trim();
    const replacement = rewrite(url);
    if (replacement === url) continue;
    parts.push(html.slice(copied, href.start), `"${escapeAttribute(replacement)}"`);
    copied = href.end;
  }
  parts.push(html.slice(copied));
  return parts.join('');
}

/** `fragment` inserted just before the last `</body>`, or at the end when there is none. */
export function insertBeforeBodyEnd(html: string, fragment: string): string {
  let at = html.length;
  for (const tag of scanTags(html)) if (tag.kind === 'end' && tag.name === 'body') at = tag.start;
  return html.slice(0, at) + fragment + html.slice(at);
}
