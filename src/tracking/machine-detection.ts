/**
 * Which tracking events a person caused and which a machine did. Reports and retargeting count human
 * events unless told otherwise, so a machine verdict always carries its reason: a marketer who doubts
 * it can read why. The rules err towards "human": an event is flagged only on a clear sign.
 *
 * Not flagged on purpose: Gmail's image proxy (`GoogleImageProxy`) and Yahoo's (`YahooMailProxy`) fetch
 * the pixel when the reader opens the message, so their opens are a person's opens seen through a proxy;
 * Outlook's own user agent (`Microsoft Office/…`) fetching the pixel is the desktop client rendering the
 * message the reader opened.
 */
export type TrackedKind = 'open' | 'click';

interface AgentRule {
  pattern: RegExp;
  /** The events the rule judges: an Outlook user agent is a person for an open, a link check for a click. */
  kinds: readonly TrackedKind[];
  reason: string;
}

const BOTH: readonly TrackedKind[] = ['open', 'click'];

/** The first rule that matches decides; the comment on each rule says where the fact comes from. */
const MACHINE_AGENTS: readonly AgentRule[] = [
  {
    // Apple Mail Privacy Protection (iOS 15 / macOS 12 and later) fetches every remote image on arrival
    // through Apple's relays, which send a bare "Mozilla/5.0" — as ESPs (SocketLabs, Word to the Wise)
    // documented once MPP shipped in 2021. No browser or mail client sends the bare token.
    pattern: /^Mozilla\/5\.0$/,
    kinds: BOTH,
    reason: 'Apple Mail Privacy Protection prefetch (bare "Mozilla/5.0" user agent)',
  },
  {
    // Microsoft Office checks a link before handing it to the browser (the "Microsoft Office Existence
    // Discovery" / ms-office requests, also seen from Defender Safe Links); the browser's request follows.
    pattern: /ms-office|Microsoft Office Existence Discovery|Microsoft Office\//i,
    kinds: ['click'],
    reason: 'Microsoft Office / Safe Links link check',
  },
  {
    // Security gateways that follow every link of an incoming message name themselves in the user
    // agent: Barracuda Link Protection, Proofpoint URL Defense, Mimecast URL Protect, Cisco Secure Email
    // (IronPort), Trend Micro Email Security (TMES), Fortinet FortiMail, Sophos, Symantec (Broadcom).
    pattern:
      /Barracuda|Proofpoint|Mimecast|CiscoSecureEmail|IronPort|\bTMES\b|FortiMail|Fortinet|Sophos|Symantec/i,
    kinds: BOTH,
    reason: 'email security scanner',
  },
  {
    // Sandboxes that detonate links run automated browsers, which announce themselves unless disguised.
    pattern: /HeadlessChrome|PhantomJS|Puppeteer|Playwright|Selenium|electron-fetch/i,
    kinds: BOTH,
    reason: 'headless browser',
  },
  {
    // Link previews: a chat app or Outlook.com's Bing preview fetching a forwarded or pasted link.
    pattern:
      /BingPreview|Slackbot|facebookexternalhit|Twitterbot|LinkedInBot|WhatsApp|TelegramBot|Discordbot|SkypeUriPreview/i,
    kinds: BOTH,
    reason: 'link preview bot',
  },
  {
    // HTTP libraries and command-line tools, as their default user agents start.
    pattern:
      /^(?:curl|Wget|python-requests|Python-urllib|aiohttp|Go-http-client|Java\/|okhttp|axios|node-fetch|undici|libwww-perl|Apache-HttpClient|HTTPie)/i,
    kinds: BOTH,
    reason: 'HTTP library, not a mail client or browser',
  },
  {
    // Crawlers: "Googlebot/2.1", "AhrefsBot/7.0", and the "+http://…" address well-behaved bots give.
    // The version slash keeps phone models such as "CUBOT P40" out.
    pattern: /(?:bot|crawler|spider|scanner)\/\d|\+https?:\/\//i,
    kinds: BOTH,
    reason: 'crawler',
  },
];

/** A prefetch on arrival: no reader opens a message within a second of its delivery. */
export const OPEN_PREFETCH_MS = 1000;

/**
 * Scanners click every link of a message one after the other; a reader clicks one, sometimes two,
 * seconds or minutes apart. With two links or more, all of them clicked within this window is a scanner.
 */
export const CLICK_BURST_MS = 2000;

/**
 * Verdicts by kind and user agent already judged. A campaign's readers use a few hundred distinct user
 * agents, so most requests skip the rules; a flood of distinct ones only empties the memo now and then.
 */
const judged: Record<TrackedKind, Map<string, string | null>> = { open: new Map(), click: new Map() };
const MAX_JUDGED = 2000;

/** The reason an event came from a machine, judged from the request alone; null when nothing says so. */
export function requestVerdict(
  kind: TrackedKind,
  request: { userAgent: string | undefined; method: string },
): string | null {
  // A browser GETs; a HEAD is a client checking that the link resolves.
  if (request.method === 'HEAD') return 'HEAD request (a link check)';
  const agent = request.userAgent?.trim();
  if (!agent) return 'no user agent';
  const memo = judged[kind];
  let verdict = memo.get(agent);
  if (verdict === undefined) {
    verdict =
      MACHINE_AGENTS.find((rule) => rule.kinds.includes(kind) && rule.pattern.test(agent))?.reason ?? null;
    if (memo.size >= MAX_JUDGED) memo.clear();
    memo.set(agent, verdict);
  }
  return verdict;
}

/** An open this soon after delivery (or before it: another process's clock) was fetched on arrival. */
export function openTimingVerdict(atMs: number, deliveredMs: number | null): string | null {
  return deliveredMs !== null && atMs - deliveredMs < OPEN_PREFETCH_MS
    ? `opened within ${OPEN_PREFETCH_MS / 1000} s of delivery (fetched on arrival)`
    : null;
}

export function burstReason(windowMs: number): string {
  return `every link of the message clicked within ${windowMs / 1000} s (a link scanner)`;
}
