import type { TokenPayload, TokenSigner } from '../../tracking/tokens.ts';

/** What a renderer needs to make tracking URLs for one message. */
export interface TrackingEnv {
  messageId: string;
  signer: TokenSigner;
  /** Base of tracking URLs (BATON_PUBLIC_URL). */
  publicUrl: string;
}

const PATHS: Record<TokenPayload['kind'], string> = { open: 't/o', click: 't/c', unsubscribe: 'u' };

/** `<publicUrl>/t/o/<token>`, `/t/c/<token>` or `/u/<token>`. */
export function trackingUrl(env: TrackingEnv, payload: TokenPayload): string {
  return `${env.publicUrl.replace(/\/+$/, '')}/${PATHS[payload.kind]}/${env.signer.sign(payload)}`;
}

export function unsubscribeUrl(env: TrackingEnv): string {
  return trackingUrl(env, { kind: 'unsubscribe', messageId: env.messageId });
}

/**
 * Turns one message's links into tracked ones and remembers the originals by index: the delivery engine
 * stores `links` with the message and the click endpoint redirects to `links[index]`. The same URL met
 * twice (a button and a text link, the HTML and the text part) gets one index, so reports count clicks
 * per destination. Only http(s) links are tracked; Baton's own unsubscribe and tracking URLs are left as
 * they are (an unsubscribe link must work even for a client that blocks redirects).
 */
export class LinkTracker {
  readonly links: string[] = [];
  private readonly own: string[];

  constructor(private readonly env: TrackingEnv) {
    const base = env.publicUrl.replace(/\/+$/, '');
    this.own = [`${base}/u/`, `${base}/t/`];
  }

  track(url: string): string {
    if (!/^https?:\/\//i.test(url) || this.own.some((prefix) => url.startsWith(prefix))) return url;
    let index = this.links.indexOf(url);
    if (index < 0) index = this.links.push(url) - 1;
    return trackingUrl(this.env, { kind: 'click', messageId: this.env.messageId, link: index });
  }
}

/**
 * URLs in plain text (an SMS, an email's text part). A URL ends at a space, a quote or an angle
 * bracket; punctuation that ends a sentence is not part of it ("see https://x.example/a."), nor is a
 * closing parenthesis without its opening one inside the URL ("(https://x.example/a)" but
 * "https://en.wikipedia.org/wiki/Mars_(planet)").
 */
const TEXT_URL = /https?:\/\/[^\s<>"']+/gi;
const TRAILING = '.,;:!?)]}';

export function trackTextLinks(text: string, tracker: LinkTracker): string {
  return text.replace(TEXT_URL, (found) => {
    const url = trimUrl(found);
    return tracker.track(url) + found.slice(url.length);
  });
}

function trimUrl(found: string): string {
  let url = found;
  while (url.length > 0 && TRAILING.includes(url.at(-1)!)) {
    if (url.endsWith(')') && count(url, '(') >= count(url, ')')) break;
    url = url.slice(0, -1);
  }
  return url;
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}
