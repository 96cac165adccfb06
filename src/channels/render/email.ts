import { convert } from 'html-to-text';
import mjml from 'mjml';
import type { EmailConfig } from '../../activities/email.ts';
import { UserError, ValidationError } from '../../errors.ts';
import type { TokenSigner } from '../../tracking/tokens.ts';
import type { OutgoingEmail } from '../types.ts';
import type { RenderContext } from './context.ts';
import { escapeAttribute, insertBeforeBodyEnd, rewriteLinks } from './html.ts';
import { compileTemplate, compileTemplates, type CompiledTemplate } from './liquid.ts';
import { LinkTracker, trackTextLinks, trackingUrl, unsubscribeUrl } from './links.ts';

/**
 * An email activity's content, compiled once per activity (MJML turned into HTML, every field parsed by
 * Liquid) and rendered once per message. Rendering is pure: the same compiled email, context and env
 * always give the same message, which is what lets a retried message be rendered again identically.
 */
export type EmailContent = Pick<
  EmailConfig,
  'category' | 'from' | 'replyTo' | 'subject' | 'html' | 'mjml' | 'template' | 'text'
>;

export interface CompiledEmail {
  category: EmailContent['category'];
  /** The HTML body before personalization (MJML's output when the content is MJML). */
  htmlSource: string;
  subject: CompiledTemplate;
  html: CompiledTemplate;
  from?: CompiledTemplate;
  replyTo?: CompiledTemplate;
  text?: CompiledTemplate;
  /**
   * Prepared once instead of per message, when the body has no loops (a link inside a loop is a
   * different link each time round): `html` then has a slot `__link_<i>` for each link's URL — rendered
   * and tracked per message from `links[i]` — and `__pixel` for the open pixel, and `generatedText` is
   * the text part made from the HTML source, with the same slots. Without them, the rendered HTML is
   * scanned for links and converted to text per message.
   */
  prepared?: { links: CompiledTemplate[]; generatedText?: CompiledTemplate };
}

export interface EmailRenderEnv {
  messageId: string;
  to: string;
  /** Rewrite links and add the open pixel (the activity's `tracking`, off in previews). */
  tracking: boolean;
  signer: TokenSigner;
  publicUrl: string;
  /** The sending domain: the right-hand side of the Message-ID. */
  domain: string;
  /** The sender when the activity names none (the provider's setting); else `no-reply@<domain>`. */
  defaultFrom?: string;
}

export interface RenderedEmail {
  email: OutgoingEmail;
  /** The original URLs of the tracked links, by link index (empty when tracking is off). */
  links: string[];
}

export async function compileEmail(content: EmailContent): Promise<CompiledEmail> {
  if (content.template !== undefined) {
    throw new UserError('Email templates are not available yet: give the content inline as html or mjml.', {
      issues: [{ path: 'template', message: 'templates are not available yet; use html or mjml' }],
    });
  }
  const htmlSource = content.mjml !== undefined ? await mjmlToHtml(content.mjml) : content.html;
  if (htmlSource === undefined) {
    throw new ValidationError('The email content', [
      { path: 'html', message: 'give the content as html or mjml' },
    ]);
  }
  // Links whose URL Liquid may make, and the pixel's place, become slots of the template (see CompiledEmail).
  const loops = /\{%-?\s*(for|tablerow)\b/.test(htmlSource);
  const linkSources: string[] = [];
  const slotted = loops
    ? htmlSource
    : insertBeforeBodyEnd(
        rewriteLinks(htmlSource, (url) => {
          if (!/^https?:\/\//i.test(url) && !url.includes('{{')) return url;
          linkSources.push(url);
          return `{{ __link_${linkSources.length - 1} }}`;
        }),
        '{{ __pixel | raw }}',
      );
  const body = { source: slotted, escaping: 'html' as const };
  const optional = (source: string | undefined) =>
    source === undefined ? undefined : { source, escaping: 'none' as const };
  const templates = compileTemplates('The email content', {
    subject: { source: content.subject, escaping: 'none' },
    // MJML's output is reported under `mjml`: that is the key the author wrote.
    html: content.mjml === undefined ? body : undefined,
    mjml: content.mjml === undefined ? undefined : body,
    from: optional(content.from),
    replyTo: optional(content.replyTo),
    text: optional(content.text),
  });
  let prepared: CompiledEmail['prepared'];
  if (!loops) {
    const links = linkSources.map(
      (source, i) =>
        compileTemplates('The email content', { [`link ${i + 1}`]: { source, escaping: 'none' as const } })[
          `link ${i + 1}`
        ]!,
    );
    prepared = { links, generatedText: content.text === undefined ? textOfSource(slotted) : undefined };
  }
  return {
    category: content.category,
    htmlSource,
    prepared,
    subject: templates.subject!,
    html: (templates.mjml ?? templates.html)!,
    from: templates.from,
    replyTo: templates.replyTo,
    text: templates.text,
  };
}

/**
 * MJML compiled strictly: an MJML error would otherwise be rendered as a broken layout in every inbox.
 * `mj-include` is refused (it would read files from the server's disk).
 */
async function mjmlToHtml(source: string): Promise<string> {
  let result: Awaited<ReturnType<typeof mjml>>;
  try {
    result = await mjml(source, { validationLevel: 'soft', ignoreIncludes: true, keepComments: false });
  } catch (error) {
    throw new ValidationError('The email content', [
      { path: 'mjml', message: `not valid MJML: ${(error as Error).message}` },
    ]);
  }
  if (result.errors.length > 0) {
    throw new ValidationError(
      'The email content',
      result.errors.map((e) => ({ path: 'mjml', message: `line ${e.line}: ${e.message}` })),
    );
  }
  return result.html;
}

export async function renderEmail(
  compiled: CompiledEmail,
  context: RenderContext,
  env: EmailRenderEnv,
): Promise<RenderedEmail> {
  const unsubscribe = unsubscribeUrl(env);
  const variables = { ...context, unsubscribe_url: unsubscribe };
  const tracker = new LinkTracker(env);
  const pixel = env.tracking
    ? `<img src="${escapeAttribute(trackingUrl(env, { kind: 'open', messageId: env.messageId }))}" width="1" height="1" alt="">`
    : '';
  let html: string;
  let text: string;
  if (compiled.prepared) {
    const slots: Record<string, string> = { __pixel: pixel };
    for (const [i, link] of compiled.prepared.links.entries()) {
      const url = (await link.render(variables)).trim();
      slots[`__link_${i}`] = env.tracking ? tracker.track(url) : url;
    }
    html = await compiled.html.render({ ...variables, ...slots });
    const generated = compiled.prepared.generatedText;
    text = compiled.text
      ? await compiled.text.render(variables)
      : generated
        ? await generated.render({ ...variables, ...slots, __pixel: '' })
        : htmlToText(html);
  } else {
    html = await compiled.html.render(variables);
    if (env.tracking) html = rewriteLinks(html, (url) => tracker.track(url));
    text = compiled.text ? await compiled.text.render(variables) : htmlToText(html);
    if (env.tracking) html = insertBeforeBodyEnd(html, pixel);
  }
  // A written text part is tracked here; a generated one shows the HTML's (already tracked) links.
  if (env.tracking && compiled.text) text = trackTextLinks(text, tracker);
  const headers: Record<string, string> = { 'Message-ID': `<${env.messageId}@${env.domain}>` };
  if (compiled.category === 'marketing') {
    // RFC 8058 one-click unsubscribe: required by the large mailbox providers for bulk senders.
    headers['List-Unsubscribe'] = `<${unsubscribe}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  const replyTo = compiled.replyTo ? headerValue(await compiled.replyTo.render(variables)) : undefined;
  const email: OutgoingEmail = {
    messageId: env.messageId,
    from: compiled.from
      ? headerValue(await compiled.from.render(variables))
      : (env.defaultFrom ?? `no-reply@${env.domain}`),
    to: env.to,
    subject: headerValue(await compiled.subject.render(variables)),
    html,
    text,
    headers,
    ...(replyTo ? { replyTo } : {}),
  };
  return { email, links: env.tracking ? tracker.links : [] };
}

/** A header holds one line: a line break from personal data must not start a header of its own. */
function headerValue(value: string): string {
  return value.replace(/[\r\n]+\s*/g, ' ').trim();
}

/**
 * The text part made once from the HTML source, Liquid tags and slots included, as a template of its own:
 * converting each rendered message costs more than everything else of rendering it. None when the
 * conversion leaves Liquid it cannot parse (a tag split by the layout): each message is then converted.
 */
function textOfSource(source: string): CompiledTemplate | undefined {
  try {
    return compileTemplate(htmlToText(source, false), 'none');
  } catch {
    return undefined;
  }
}

function htmlToText(html: string, wrap = true): string {
  return convert(html, {
    // Unwrapped when converting a template: a wrap could fall inside a Liquid tag.
    wordwrap: wrap ? 78 : false,
    selectors: [
      { selector: 'img', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true } },
      { selector: 'h1', options: { uppercase: false } },
      { selector: 'h2', options: { uppercase: false } },
      { selector: 'h3', options: { uppercase: false } },
      // Email layouts are tables: a cell is a block of its own, not a column glued to the next one.
      { selector: 'table', format: 'block' },
      { selector: 'tr', format: 'block' },
      { selector: 'td', format: 'block' },
      { selector: 'th', format: 'block' },
    ],
  });
}
