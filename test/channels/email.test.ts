import { describe, expect, it } from 'vitest';
import { buildRenderContext, type RenderContext } from '../../src/channels/render/context.ts';
import {
  compileEmail,
  renderEmail,
  type EmailContent,
  type EmailRenderEnv,
} from '../../src/channels/render/email.ts';
import { scanTags } from '../../src/channels/render/html.ts';
import { UserError, ValidationError } from '../../src/errors.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';

const MESSAGE = '0b6f2c1e-9a4d-8c3b-a2e1-5f7d9c0b1a2e';
const PUBLIC = 'https://t.example.com';
const signer = new TokenSigner({ current: { id: 1, secret: 's'.repeat(40) }, previous: [] });
const env: EmailRenderEnv = {
  messageId: MESSAGE,
  to: 'ann@example.org',
  tracking: true,
  signer,
  publicUrl: PUBLIC,
  domain: 'mail.example.com',
};

function contextFor(firstName: string, id = 'p1'): RenderContext {
  return buildRenderContext({
    profile: { id, first_name: firstName, email: 'ann@example.org' },
    carried: ['latest_1_product', 'latest_2_product'],
    row: { latest_1_product: 'Shoes', latest_2_product: 'Hat' },
    campaign: { id: 'c1', name: 'Spring' },
    message: { id: MESSAGE, channel: 'email' },
  });
}

const content = (over: Partial<EmailContent>): EmailContent => ({
  category: 'marketing',
  subject: 'Hi',
  ...over,
});

/** The token of a tracking URL, verified. */
function tokenOf(url: string) {
  const match = /^https:\/\/t\.example\.com\/(t\/[co]|u)\/([A-Za-z0-9_-]+)$/.exec(url);
  expect(match, url).not.toBeNull();
  return signer.verify(match![2]!);
}

function hrefs(html: string): string[] {
  return [...scanTags(html)]
    .filter((t) => t.kind === 'start' && t.name === 'a')
    .map((t) => t.attributes.find((a) => a.name === 'href')?.value ?? '');
}

const HTML = `<!DOCTYPE html><html><head><title>x</title><style>a[href="https://css.example"]{}</style></head><BODY>
<p>Hello {{ profile.first_name }}</p>
<a href="https://shop.example/a?x=1&amp;y=2">double</a>
<a class='btn' href='https://shop.example/b'>single</a>
<A TARGET="_blank" HREF="https://shop.example/c">upper</A>
<a href=https://shop.example/d>unquoted</a>
<a data-x="1" href = " https://shop.example/a?x=1&amp;y=2 ">same as first</a>
<a href="mailto:help@example.com">mail</a> <a href="tel:+33100000000">call</a> <a href="#top">top</a>
<a href="{{ unsubscribe_url }}">Unsubscribe</a>
<!-- <a href="https://commented.example">no</a> -->
<script>var s = '<a href="https://script.example">';</script>
<area href="http://map.example/e">
</BODY></html>`;

describe('compileEmail', () => {
  it('compiles MJML to HTML once, and renders it per recipient', async () => {
    const compiled = await compileEmail(
      content({
        mjml: `<mjml><mj-body><mj-section><mj-column>
          <mj-text>Hello {{ profile.first_name }}</mj-text>
          <mj-button href="https://shop.example/?p={{ profile.id }}">Shop</mj-button>
        </mj-column></mj-section></mj-body></mjml>`,
      }),
    );
    expect(compiled.htmlSource).toContain('<!doctype html>');
    expect(compiled.htmlSource).not.toContain('<mj-');
    const rendered = await Promise.all(
      ['Ann', 'Bob', 'Chloé'].map((name, i) =>
        renderEmail(compiled, contextFor(name, `p${i}`), { ...env, tracking: false }),
      ),
    );
    expect(rendered.map((r) => />Hello (\S+)</.exec(r.email.html)?.[1])).toEqual(['Ann', 'Bob', 'Chloé']);
    expect(hrefs(rendered[2]!.email.html)).toEqual(['https://shop.example/?p=p2']);
  });

  it('tracks MJML buttons and adds the pixel before </body>', async () => {
    const compiled = await compileEmail(
      content({
        mjml: '<mjml><mj-body><mj-section><mj-column><mj-button href="https://shop.example/x">Go</mj-button></mj-column></mj-section></mj-body></mjml>',
      }),
    );
    const { email, links } = await renderEmail(compiled, contextFor('Ann'), env);
    expect(links).toEqual(['https://shop.example/x']);
    expect(tokenOf(hrefs(email.html)[0]!)).toEqual({ kind: 'click', messageId: MESSAGE, link: 0 });
    expect(email.html).toMatch(
      /<img src="https:\/\/t\.example\.com\/t\/o\/[\w-]+" width="1" height="1" alt=""><\/body>\s*<\/html>\s*$/,
    );
  });

  it('reports MJML errors and template syntax errors by config key', async () => {
    await expect(
      compileEmail(content({ mjml: '<mjml><mj-body><mj-bogus/></mj-body></mjml>' })),
    ).rejects.toSatisfy(
      (e) =>
        e instanceof ValidationError && e.issues[0]!.path === 'mjml' && /mj-bogus/.test(e.issues[0]!.message),
    );
    await expect(
      compileEmail(content({ mjml: '<mjml><mj-body><mj-text>{% if %}</mj-text></mj-body></mjml>' })),
    ).rejects.toSatisfy((e) => e instanceof ValidationError && e.issues.some((i) => i.path === 'mjml'));
    await expect(
      compileEmail(content({ subject: '{{ a | nope }}', html: '<p>{% endif %}</p>' })),
    ).rejects.toSatisfy(
      (e) => e instanceof ValidationError && e.issues.map((i) => i.path).join() === 'subject,html',
    );
  });

  it('refuses templates (not available yet) and mj-include', async () => {
    await expect(compileEmail(content({ template: 'welcome' }))).rejects.toThrow(UserError);
    await expect(compileEmail(content({ template: 'welcome' }))).rejects.toThrow(/not available yet/);
    const compiled = await compileEmail(
      content({
        mjml: '<mjml><mj-body><mj-include path="/etc/passwd" /><mj-section><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>',
      }),
    );
    expect(compiled.htmlSource).not.toContain('root:');
    expect(compiled.htmlSource).toContain('>x</div>');
  });
});

describe('renderEmail', () => {
  it('rewrites http(s) links whatever their quoting and case, and leaves the others alone', async () => {
    const compiled = await compileEmail(content({ html: HTML }));
    const { email, links } = await renderEmail(compiled, contextFor('Ann'), env);
    expect(links).toEqual([
      'https://shop.example/a?x=1&y=2',
      'https://shop.example/b',
      'https://shop.example/c',
      'https://shop.example/d',
      'http://map.example/e',
    ]);
    const found = hrefs(email.html);
    expect(found.slice(0, 5).map((h) => tokenOf(h))).toEqual(
      [0, 1, 2, 3, 0].map((link) => ({ kind: 'click', messageId: MESSAGE, link })),
    );
    expect(found.slice(5, 8)).toEqual(['mailto:help@example.com', 'tel:+33100000000', '#top']);
    expect(tokenOf(found[8]!)).toEqual({ kind: 'unsubscribe', messageId: MESSAGE });
    // Everything else is untouched: attributes, comments, script and style content.
    expect(email.html).toContain(`<a class='btn' href="${found[1]}">single</a>`);
    expect(email.html).toContain(`<A TARGET="_blank" HREF="${found[2]}">upper</A>`);
    expect(email.html).toContain('<!-- <a href="https://commented.example">no</a> -->');
    expect(email.html).toContain(`var s = '<a href="https://script.example">';`);
    expect(email.html).toContain('a[href="https://css.example"]{}');
    expect(email.html).toMatch(
      /<img src="https:\/\/t\.example\.com\/t\/o\/[\w-]+" width="1" height="1" alt="">\n?<\/BODY>/,
    );
    const pixel = /<img src="([^"]+)" width="1"/.exec(email.html)![1]!;
    expect(tokenOf(pixel)).toEqual({ kind: 'open', messageId: MESSAGE });
  });

  it('leaves links alone and adds no pixel when tracking is off', async () => {
    const compiled = await compileEmail(content({ html: HTML }));
    const { email, links } = await renderEmail(compiled, contextFor('Ann'), { ...env, tracking: false });
    expect(links).toEqual([]);
    expect(email.html).not.toContain('/t/o/');
    expect(email.html).not.toContain('/t/c/');
    expect(hrefs(email.html)[0]).toBe('https://shop.example/a?x=1&y=2');
  });

  it('adds the pixel at the end of a fragment without </body>', async () => {
    const compiled = await compileEmail(content({ html: '<p><a href="https://a.example">a</a></p>' }));
    const { email } = await renderEmail(compiled, contextFor('Ann'), env);
    expect(email.html).toMatch(/<\/p><img src="[^"]+\/t\/o\/[\w-]+" width="1" height="1" alt="">$/);
  });

  it('sets Message-ID, List-Unsubscribe and one-click for marketing, only Message-ID for transactional', async () => {
    const marketing = await renderEmail(
      await compileEmail(content({ html: '<p>x</p>' })),
      contextFor('Ann'),
      env,
    );
    expect(marketing.email.headers['Message-ID']).toBe(`<${MESSAGE}@mail.example.com>`);
    const unsubscribe = /^<(.+)>$/.exec(marketing.email.headers['List-Unsubscribe']!)![1]!;
    expect(tokenOf(unsubscribe)).toEqual({ kind: 'unsubscribe', messageId: MESSAGE });
    expect(marketing.email.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const transactional = await renderEmail(
      await compileEmail(content({ category: 'transactional', html: '<p>x</p>' })),
      contextFor('Ann'),
      env,
    );
    expect(Object.keys(transactional.email.headers)).toEqual(['Message-ID']);
  });

  it('renders subject, from and reply-to, one line each, and falls back to a default sender', async () => {
    const compiled = await compileEmail(
      content({
        subject: '{{ profile.first_name }}, your {{ target.latest.first.product }}',
        from: 'Shop <shop@example.com>',
        replyTo: 'help+{{ profile.id }}@example.com',
        html: '<p>{{ profile.first_name }}</p>',
      }),
    );
    const { email } = await renderEmail(compiled, contextFor('Ann\r\nBcc: evil@example.com'), env);
    expect(email.subject).toBe('Ann Bcc: evil@example.com, your Shoes');
    expect(email.from).toBe('Shop <shop@example.com>');
    expect(email.replyTo).toBe('help+p1@example.com');
    expect(email.to).toBe('ann@example.org');
    expect(email.messageId).toBe(MESSAGE);
    const bare = await renderEmail(await compileEmail(content({ html: '<p>x</p>' })), contextFor('A'), env);
    expect(bare.email.from).toBe('no-reply@mail.example.com');
    expect(bare.email.replyTo).toBeUndefined();
    const withDefault = await renderEmail(
      await compileEmail(content({ html: '<p>x</p>' })),
      contextFor('A'),
      {
        ...env,
        defaultFrom: 'news@example.com',
      },
    );
    expect(withDefault.email.from).toBe('news@example.com');
  });

  it('generates the text part from the HTML, with the tracked links', async () => {
    const compiled = await compileEmail(
      content({
        html: '<html><head><style>p{}</style></head><body><h1>Hello {{ profile.first_name }}</h1><table><tr><td>One</td><td>Two</td></tr></table><p>See <a href="https://shop.example/x">our shop</a>.</p></body></html>',
      }),
    );
    const { email, links } = await renderEmail(compiled, contextFor('Ann'), env);
    expect(email.text).toMatch(/^Hello Ann\n/);
    expect(email.text).toMatch(/One\n+Two/);
    expect(email.text).not.toContain('p{}');
    const url = /our shop\s+\[(\S+)\]/.exec(email.text)![1]!;
    expect(tokenOf(url)).toEqual({ kind: 'click', messageId: MESSAGE, link: 0 });
    expect(links).toEqual(['https://shop.example/x']);
    expect(email.text).not.toContain('/t/o/');
  });

  it('renders a written text part and tracks its links with the HTML part’s indexes', async () => {
    const compiled = await compileEmail(
      content({
        html: '<a href="https://shop.example/x">x</a>',
        text: 'Hi {{ profile.first_name }} <b>: https://shop.example/y, https://shop.example/x.\nStop: {{ unsubscribe_url }}',
      }),
    );
    const { email, links } = await renderEmail(compiled, contextFor('Ann & Bob'), env);
    expect(links).toEqual(['https://shop.example/x', 'https://shop.example/y']);
    const [, y, x, unsubscribe] = /^Hi Ann & Bob <b>: (\S+), (\S+)\.\nStop: (\S+)$/.exec(email.text)!;
    expect(tokenOf(y!)).toEqual({ kind: 'click', messageId: MESSAGE, link: 1 });
    expect(tokenOf(x!)).toEqual({ kind: 'click', messageId: MESSAGE, link: 0 });
    expect(tokenOf(unsubscribe!)).toEqual({ kind: 'unsubscribe', messageId: MESSAGE });
  });

  it('is deterministic: the same message renders the same twice', async () => {
    const compiled = await compileEmail(content({ html: HTML }));
    const a = await renderEmail(compiled, contextFor('Ann'), env);
    const b = await renderEmail(compiled, contextFor('Ann'), env);
    expect(a).toEqual(b);
  });
});
