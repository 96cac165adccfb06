import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.ts';
import { buildRenderContext, targetVariables } from '../../src/channels/render/context.ts';
import { compileTemplate, compileTemplates, TemplateRenderError } from '../../src/channels/render/liquid.ts';

const context = buildRenderContext({
  profile: { first_name: 'Ann <b>', tier: 'gold', birth: '1990-04-02', joined: '2024-03-05T10:15:00.000Z' },
  carried: [
    'spent_90d',
    'latest_1_amount',
    'latest_1_product',
    'latest_2_amount',
    'latest_2_product',
    'latest_3_amount',
    'latest_3_product',
    'latest_count',
  ],
  row: {
    spent_90d: 120.5,
    latest_1_amount: 30,
    latest_1_product: 'Shoes',
    latest_2_amount: 12.5,
    latest_2_product: 'Socks',
    latest_3_amount: null,
    latest_3_product: null,
    latest_count: 2,
  },
  campaign: { id: 'spring', name: 'Spring sale' },
  message: { id: '0b6f2c1e-9a4d-8c3b-a2e1-5f7d9c0b1a2e', channel: 'email' },
});

const render = (source: string, escaping: 'html' | 'none' = 'none', ctx: object = context) =>
  compileTemplate(source, escaping).render(ctx);

async function renderError(source: string): Promise<string> {
  try {
    await render(source);
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateRenderError);
    return (error as Error).message;
  }
  throw new Error('expected a render error');
}

function syntaxIssues(fields: Record<string, string>) {
  try {
    compileTemplates(
      'The content',
      Object.fromEntries(
        Object.entries(fields).map(([k, source]) => [k, { source, escaping: 'none' as const }]),
      ),
    );
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).issues;
  }
  throw new Error('expected a syntax error');
}

describe('render context', () => {
  it('gathers numbered enrichment lines into arrays, skipping empty lines, and keeps the columns', () => {
    expect(context.target.latest).toEqual([
      { amount: 30, product: 'Shoes' },
      { amount: 12.5, product: 'Socks' },
    ]);
    expect(context.target.latest_2_amount).toBe(12.5);
    expect(context.target.latest_count).toBe(2);
  });

  it('takes collection names with underscores and columns with dots flattened', () => {
    const target = targetVariables(['recent_buys_1_store_name', 'recent_buys_2_store_name', 'top_10_score'], {
      recent_buys_1_store_name: 'Lyon',
      recent_buys_2_store_name: 'Nice',
      top_10_score: 3,
    });
    expect(target.recent_buys).toEqual([{ store_name: 'Lyon' }, { store_name: 'Nice' }]);
    // No line 1: a plain column that looks numbered, not a collection.
    expect(target.top).toBeUndefined();
    expect(target.top_10_score).toBe(3);
  });

  it('lets a carried column win over a collection of the same name, and treats __proto__ as data', () => {
    const target = targetVariables(['latest', 'latest_1_amount', '__proto__'], {
      latest: 'kept',
      latest_1_amount: 1,
      ['__proto__' as string]: 5,
    });
    expect(target.latest).toBe('kept');
    expect(Object.getPrototypeOf(target)).toBe(Object.prototype);
  });
});

describe('Liquid rendering', () => {
  it('personalises with profile, target, enrichment arrays, campaign and message', async () => {
    const out = await render(
      '{{ profile.tier | upcase }} {{ target.spent_90d }} {{ campaign.name }} {{ message.channel }}|' +
        '{% for p in target.latest %}{{ forloop.index }}:{{ p.product }}={{ p.amount }};{% endfor %}|' +
        '{{ target.latest.size }} {{ target.latest.first.product }} {{ target.latest_1_product }}',
    );
    expect(out).toBe('GOLD 120.5 Spring sale email|1:Shoes=30;2:Socks=12.5;|2 Shoes Shoes');
  });

  it('formats ISO dates with the date filter, in UTC', async () => {
    expect(await render('{{ profile.birth | date: "%d/%m/%Y" }} {{ profile.joined | date: "%H:%M" }}')).toBe(
      '02/04/1990 10:15',
    );
  });

  it('renders unknown variables as empty', async () => {
    expect(await render('[{{ profile.nope }}{{ nothing.at.all }}]')).toBe('[]');
  });

  it('escapes HTML by default in HTML bodies, not with | raw, and never in plain text', async () => {
    expect(await render('{{ profile.first_name }}|{{ profile.first_name | raw }}', 'html')).toBe(
      'Ann &lt;b&gt;|Ann <b>',
    );
    expect(await render('{{ profile.first_name }}', 'none')).toBe('Ann <b>');
  });

  it('hides prototypes and constructors', async () => {
    const out = await render(
      '[{{ constructor }}|{{ profile.constructor.constructor }}|{{ profile.__proto__ }}|{{ target.latest.constructor }}|' +
        '{{ profile["__proto__"]["constructor"] }}|{{ profile.first_name.constructor.name }}|{{ profile.hasOwnProperty }}|{{ profile.toString }}]',
    );
    expect(out).toBe('[|||||||]');
    expect(await render('{% assign f = profile.constructor %}{{ f.name }}{{ f }}')).toBe('');
  });

  it('refuses include, render and layout when compiling, naming the line and column', () => {
    for (const tag of ["{% include '/etc/passwd' %}", "{% render 'x' %}", "{% layout 'base' %}"]) {
      const [issue] = syntaxIssues({ html: `Hello\n  ${tag}` });
      expect(issue?.path).toBe('html');
      expect(issue?.message).toMatch(
        /is not available: templates cannot read other files \(line 2, column 3\)/,
      );
    }
  });

  it('reports syntax errors per field with line and column', () => {
    const issues = syntaxIssues({
      subject: 'Hi {{ profile.name | bogus }}',
      html: 'a\nb {% if %}',
      text: 'fine',
    });
    expect(issues.map((i) => i.path)).toEqual(['subject', 'html']);
    expect(issues[0]!.message).toMatch(/undefined filter: bogus \(line 1, column 4\)/);
    expect(issues[1]!.message).toMatch(/\(line 2, column \d+\)$/);
    expect(syntaxIssues({ html: '{% for x in y %}never closed' })[0]!.message).toMatch(/not closed/);
  });

  it('stops a runaway loop with a clear error', async () => {
    expect(await renderError('{% for i in (1..100000000) %}{{ i }}{% endfor %}')).toMatch(
      /built too much data .*\(line 1, column 1\)/,
    );
    const started = Date.now();
    expect(
      await renderError(
        '{% for i in (1..1000) %}{% for j in (1..1000) %}{% for k in (1..1000) %}{% endfor %}{% endfor %}{% endfor %}',
      ),
    ).toMatch(/took longer than 200 ms/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops a template that builds a huge string', async () => {
    expect(
      await renderError(
        '{% assign s = "xxxxxxxxxx" %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}',
      ),
    ).toMatch(/too much data/);
  });

  it('stops huge output', async () => {
    expect(
      await renderError(
        // Few iterations of a long text: over the output limit long before the time limit, even on a
        // loaded machine.
        `{% for i in (1..300) %}{{ "${'0123456789'.repeat(400)}" }}{% endfor %}`,
      ),
    ).toMatch(/longer than 1,000,000 characters/);
  });

  it('renders a compiled template many times with different data', async () => {
    const template = compileTemplate('Hi {{ profile.first_name }}', 'none');
    const names = ['A', 'B', 'C'];
    const out = await Promise.all(names.map((n) => template.render({ profile: { first_name: n } })));
    expect(out).toEqual(['Hi A', 'Hi B', 'Hi C']);
  });
});
