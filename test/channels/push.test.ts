import { describe, expect, it } from 'vitest';
import { buildRenderContext } from '../../src/channels/render/context.ts';
import {
  compilePush,
  OPEN_DATA_KEY,
  renderPush,
  type PushRenderEnv,
} from '../../src/channels/render/push.ts';
import { ValidationError } from '../../src/errors.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';

const MESSAGE = '0b6f2c1e-9a4d-8c3b-a2e1-5f7d9c0b1a2e';
const signer = new TokenSigner({ current: { id: 0, secret: 'q'.repeat(40) }, previous: [] });
const env: PushRenderEnv = {
  messageId: MESSAGE,
  token: 'device-token',
  tracking: true,
  signer,
  publicUrl: 'https://t.example.com',
};
const context = buildRenderContext({
  profile: { first_name: 'Ann <b>', id: 42 },
  carried: ['offer_1_code'],
  row: { offer_1_code: 'SPRING' },
  campaign: { id: 'c', name: 'Spring' },
  message: { id: MESSAGE, channel: 'push' },
});

describe('push rendering', () => {
  const compiled = compilePush({
    title: 'Hi {{ profile.first_name }}',
    body: 'Code {{ target.offer.first.code }}',
    data: { screen: 'offers', customer: '{{ profile.id }}' },
    deepLink: 'app://offers/{{ target.offer_1_code | downcase }}',
  });

  it('renders title, body, data values and deep link as plain text', async () => {
    const push = await renderPush(compiled, context, { ...env, tracking: false });
    expect(push).toEqual({
      messageId: MESSAGE,
      token: 'device-token',
      title: 'Hi Ann <b>',
      body: 'Code SPRING',
      data: { screen: 'offers', customer: '42' },
      deepLink: 'app://offers/spring',
    });
  });

  it('adds the open URL to the data when tracking is on', async () => {
    const push = await renderPush(compiled, context, env);
    const url = push.data[OPEN_DATA_KEY]!;
    const token = /^https:\/\/t\.example\.com\/t\/o\/([\w-]+)$/.exec(url)![1]!;
    expect(signer.verify(token)).toEqual({ kind: 'open', messageId: MESSAGE });
    expect(Object.keys(push.data)).toEqual(['screen', 'customer', OPEN_DATA_KEY]);
  });

  it('reports syntax errors with the data key path', () => {
    let caught: unknown;
    try {
      compilePush({ title: 'x', body: '{{ a | nope }}', data: { good: 'ok', bad: '{% if %}' } });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).issues.map((i) => i.path)).toEqual(['body', 'data.bad']);
  });
});
