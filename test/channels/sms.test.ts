import { describe, expect, it } from 'vitest';
import { buildRenderContext } from '../../src/channels/render/context.ts';
import { TemplateRenderError } from '../../src/channels/render/liquid.ts';
import { smsSize } from '../../src/channels/render/segments.ts';
import { compileSms, normalisePhone, renderSms, type SmsRenderEnv } from '../../src/channels/render/sms.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';

const MESSAGE = '0b6f2c1e-9a4d-8c3b-a2e1-5f7d9c0b1a2e';
const signer = new TokenSigner({ current: { id: 0, secret: 'z'.repeat(40) }, previous: [] });
const env: SmsRenderEnv = {
  messageId: MESSAGE,
  to: '06 12 34 56 78',
  defaultCountry: 'FR',
  tracking: true,
  signer,
  publicUrl: 'https://t.example.com/',
};
const context = buildRenderContext({
  profile: { first_name: 'Zoë' },
  carried: [],
  row: {},
  campaign: { id: 'c', name: 'C' },
  message: { id: MESSAGE, channel: 'sms' },
});

describe('normalisePhone', () => {
  it('writes valid numbers in E.164', () => {
    expect(normalisePhone('06 12 34 56 78', 'FR')).toBe('+33612345678');
    expect(normalisePhone('+33 6 12 34 56 78')).toBe('+33612345678');
    expect(normalisePhone('0033612345678', 'FR')).toBe('+33612345678');
    expect(normalisePhone('(201) 555-0123', 'US')).toBe('+12015550123');
    expect(normalisePhone('+1 201-555-0123', 'FR')).toBe('+12015550123');
    expect(normalisePhone('07400 123456', 'GB')).toBe('+447400123456');
    expect(normalisePhone('+44 7400 123456')).toBe('+447400123456');
  });

  it('refuses what is not a valid number', () => {
    expect(normalisePhone('0612', 'FR')).toBeUndefined();
    expect(normalisePhone('hello', 'FR')).toBeUndefined();
    expect(normalisePhone('')).toBeUndefined();
    // A national number without a default country cannot be placed.
    expect(normalisePhone('06 12 34 56 78')).toBeUndefined();
    expect(normalisePhone('06 12 34 56 78', 'XX')).toBeUndefined();
    expect(normalisePhone('+1 555 0100')).toBeUndefined();
  });
});

describe('smsSize', () => {
  const gsm = (n: number) => 'a'.repeat(n);
  it('counts GSM-7 parts at the 160 / 153 boundaries', () => {
    expect(smsSize(gsm(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize(gsm(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(smsSize(gsm(306)).segments).toBe(2);
    expect(smsSize(gsm(307)).segments).toBe(3);
    expect(smsSize('').segments).toBe(1);
  });

  it('counts extension characters as two septets and never splits them', () => {
    expect(smsSize('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize(`${'€'.repeat(80)}a`).segments).toBe(2);
    expect(smsSize('[]{}^~|\\\f').units).toBe(18);
    // 152 septets then an escape pair: the pair goes to the next part.
    expect(smsSize(`${gsm(152)}[${gsm(152)}`)).toEqual({ encoding: 'GSM-7', units: 306, segments: 3 });
    expect(smsSize(`${gsm(151)}[${gsm(152)}`).segments).toBe(2);
  });

  it('keeps accented letters of the GSM alphabet in GSM-7 and switches to UCS-2 for others', () => {
    expect(smsSize('Café à l’été').encoding).toBe('UCS-2'); // the typographic apostrophe
    expect(smsSize("Cafe a l'ete èéùìòÇÄÖÑÜäöñüß").encoding).toBe('GSM-7');
    expect(smsSize('ç').encoding).toBe('UCS-2');
  });

  it('counts UCS-2 parts at the 70 / 67 boundaries, emoji as two code units', () => {
    const ucs = (n: number) => `ç${'a'.repeat(n - 1)}`;
    expect(smsSize(ucs(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSize(ucs(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(smsSize(ucs(134)).segments).toBe(2);
    expect(smsSize(ucs(135)).segments).toBe(3);
    expect(smsSize('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSize('😀'.repeat(36)).segments).toBe(2);
    // 66 units then an emoji: the surrogate pair goes to the next part.
    expect(smsSize(`${'a'.repeat(66)}😀${'a'.repeat(66)}`)).toEqual({
      encoding: 'UCS-2',
      units: 134,
      segments: 3,
    });
  });
});

describe('renderSms', () => {
  it('renders the text, normalises the number and counts parts', async () => {
    const compiled = compileSms({ text: 'Hi {{ profile.first_name }} <3' });
    const result = await renderSms(compiled, context, env);
    expect(result).toEqual({
      sms: { messageId: MESSAGE, to: '+33612345678', text: 'Hi Zoë <3', encoding: 'UCS-2', segments: 1 },
      links: [],
    });
  });

  it('rejects a malformed number instead of sending', async () => {
    const compiled = compileSms({ text: 'Hi' });
    expect(await renderSms(compiled, context, { ...env, to: '12' })).toEqual({
      rejected: 'malformed-address',
    });
  });

  it('replaces links by short signed click URLs when tracking is on', async () => {
    const compiled = compileSms({
      text: 'Sale! https://shop.example/spring?utm=sms. Again: https://shop.example/spring?utm=sms',
    });
    const result = await renderSms(compiled, context, env);
    if (!('sms' in result)) throw new Error('expected an sms');
    expect(result.links).toEqual(['https://shop.example/spring?utm=sms']);
    const match =
      /^Sale! https:\/\/t\.example\.com\/t\/c\/([\w-]{48})\. Again: https:\/\/t\.example\.com\/t\/c\/([\w-]{48})$/.exec(
        result.sms.text,
      );
    expect(match).not.toBeNull();
    expect(signer.verify(match![1]!)).toEqual({ kind: 'click', messageId: MESSAGE, link: 0 });
    expect(match![2]).toBe(match![1]);
    expect(result.sms.encoding).toBe('GSM-7');
    const untracked = await renderSms(compiled, context, { ...env, tracking: false });
    expect(untracked).toMatchObject({
      sms: { text: 'Sale! https://shop.example/spring?utm=sms. Again: https://shop.example/spring?utm=sms' },
      links: [],
    });
  });

  it('keeps a closing parenthesis that belongs to the URL', async () => {
    const compiled = compileSms({ text: '(see https://en.wikipedia.org/wiki/Mars_(planet))' });
    const result = await renderSms(compiled, context, env);
    expect('sms' in result && result.links).toEqual(['https://en.wikipedia.org/wiki/Mars_(planet)']);
    expect('sms' in result && result.sms.text).toMatch(/^\(see https:\/\/t\.example\.com\/t\/c\/[\w-]+\)$/);
  });

  it('fails a message whose text renders empty', async () => {
    const compiled = compileSms({ text: '{{ profile.nothing }}' });
    await expect(renderSms(compiled, context, env)).rejects.toThrow(TemplateRenderError);
  });
});
