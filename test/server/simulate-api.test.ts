import { expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi } from '../helpers/http.ts';

/** "Simulate content": a channel's content rendered with sample data over HTTP, no campaign run. */
describeEachDatabase('simulate content', (t) => {
  it('renders each sample, with enrichment lines as arrays, and says what is wrong', async () => {
    const api = await startApi(t);
    try {
      const simulated = await api.call<{
        messages: Array<{ outgoing?: { subject: string; html: string; to: string }; excluded?: string }>;
      }>('POST', '/api/channels/email/simulate', {
        json: {
          config: {
            subject: 'Hi {{ profile.first_name | default: "there" }}',
            html: '<ul>{% for p in target.latest %}<li>{{ p.name }} {{ p.price }}</li>{% endfor %}</ul>',
          },
          samples: [
            {
              address: 'ann@x.io',
              profile: { first_name: 'Ann' },
              target: {
                latest_1_name: 'Shoes',
                latest_1_price: 40,
                latest_2_name: 'Hat <b>',
                latest_2_price: 15,
              },
            },
            { address: 'nobody@x.io', profile: { first_name: null }, target: {} },
          ],
        },
      });
      expect(simulated.status).toBe(200);
      const [ann, nobody] = simulated.body.messages;
      expect(ann!.outgoing!.subject).toBe('Hi Ann');
      expect(ann!.outgoing!.to).toBe('ann@x.io');
      // HTML escaped by default; the lines in order.
      expect(ann!.outgoing!.html).toContain('<ul><li>Shoes 40</li><li>Hat &lt;b&gt; 15</li></ul>');
      expect(nobody!.outgoing!.subject).toBe('Hi there');

      const sms = await api.call<{
        messages: Array<{ excluded?: string; outgoing?: { to: string; segments: number } }>;
      }>('POST', '/api/channels/sms/simulate', {
        json: {
          config: { text: 'Hello {{ profile.name }}', defaultCountry: 'FR' },
          samples: [
            { address: '06 12 00 00 01', profile: { name: 'Bob' } },
            { address: 'not a number', profile: { name: 'Eve' } },
          ],
        },
      });
      expect(sms.body.messages[0]!.outgoing).toMatchObject({ to: '+33612000001', segments: 1 });
      expect(sms.body.messages[1]).toEqual({ excluded: 'malformed-address' });

      const bad = await api.call<{ error: { issues: Array<{ path: string }> } }>(
        'POST',
        '/api/channels/email/simulate',
        {
          json: {
            config: { subject: '{% if %}', html: '<p>x</p>' },
            samples: [{ address: 'a@x.io', profile: {} }],
          },
        },
      );
      expect(bad.status).toBe(400);
      expect(bad.body.error.issues.map((i) => i.path)).toEqual(['subject']);
      expect(
        (
          await api.call('POST', '/api/channels/fax/simulate', {
            json: { config: {}, samples: [{ address: 'x', profile: {} }] },
          })
        ).status,
      ).toBe(404);
    } finally {
      await api.close();
    }
  });
});
