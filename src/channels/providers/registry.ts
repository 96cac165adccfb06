import { readFileSync } from 'node:fs';
import type { BatonConfig, ProviderSettings } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { UserError, unreadableFile } from '../../errors.ts';
import type { Provider, SendingChannel } from '../types.ts';
import { createApnsProvider } from './apns.ts';
import { createFcmProvider, type FcmServiceAccount } from './fcm.ts';
import { createHttpSmsProvider, type SmsFormat } from './http-sms.ts';
import { createSimulator } from './simulator.ts';
import { createSmtpProvider, describeSmtpUrl } from './smtp.ts';
import { createWebPushProvider } from './web-push.ts';

/**
 * The providers of each channel, built from the configuration: the one the settings choose (SMTP_URL,
 * SMS_PROVIDER, PUSH_PROVIDER) is the channel's default, and every channel also has the `simulator`,
 * which a channel activity can pick with `provider: simulator`. Settings that are chosen but incomplete
 * are refused at once, naming the variable; email without SMTP_URL outside embedded mode is refused only
 * when an email is sent, since nothing else needs it.
 */
export interface ProviderDescription {
  channel: SendingChannel;
  name: string;
  /** smtp, dev-outbox, twilio, vonage, fcm, apns, web-push, simulator */
  kind: string;
  /** Used when a channel activity names no provider. */
  default: boolean;
  /** Where it sends and how, without credentials. */
  settings: Record<string, string | number>;
  /** Why it cannot send (email without SMTP_URL in server mode). */
  problem?: string;
}

type ProviderConfig = Pick<BatonConfig, 'databaseUrl' | 'outboxPort' | 'providers'> &
  Partial<Pick<BatonConfig, 'publicUrl'>>;

interface Entry {
  description: ProviderDescription;
  build(database: Database): Provider;
}

const SMS_PROVIDERS = ['twilio', 'vonage', 'simulator'] as const;
const PUSH_PROVIDERS = ['fcm', 'apns', 'web-push', 'simulator'] as const;

/** The values of the named settings, or an error naming those that are missing. */
function required<K extends Exclude<keyof ProviderSettings, 'rates' | 'smtpDkim'>>(
  settings: ProviderSettings,
  chosen: string,
  keys: Record<K, string>,
): { [P in K]: string } {
  const missing = (Object.keys(keys) as K[]).filter((key) => settings[key] === undefined);
  if (missing.length > 0) {
    const names = missing.map((key) => keys[key]);
    throw new UserError(
      `${chosen} needs ${names.join(', ')}: ${names.length === 1 ? 'it is' : 'they are'} not set (environment or baton.config.yaml).`,
    );
  }
  return Object.fromEntries((Object.keys(keys) as K[]).map((key) => [key, String(settings[key])])) as {
    [P in K]: string;
  };
}

/** An identifier shown in the settings view, shortened: enough to recognise, not to reuse. */
function hint(value: string): string {
  return value.length <= 6 ? '…' : `${value.slice(0, 4)}…`;
}

function simulatorEntry(channel: SendingChannel, isDefault: boolean): Entry {
  return {
    description: {
      channel,
      name: 'simulator',
      kind: 'simulator',
      default: isDefault,
      settings: { outbox: '/api/outbox' },
    },
    build: (database) => createSimulator(channel, database),
  };
}

function emailEntries(config: ProviderConfig): Entry[] {
  const { providers } = config;
  const pool = { maxConnections: providers.smtpMaxConnections, maxMessages: providers.smtpMaxMessages };
  const dkim = providers.smtpDkim;
  const bounceAddress = providers.smtpBounceAddress;
  // Where receivers look the DKIM key up (never the private key itself), and where bounces go.
  const sending: Record<string, string> = {
    ...(dkim ? { dkim: `${dkim.selector}._domainkey.${dkim.domain}` } : {}),
    ...(bounceAddress ? { bounces: bounceAddress } : {}),
  };
  let smtp: Entry;
  if (providers.smtpUrl !== undefined) {
    const url = providers.smtpUrl;
    smtp = {
      description: {
        channel: 'email',
        name: 'smtp',
        kind: 'smtp',
        default: true,
        settings: { server: describeSmtpUrl(url), ...pool, ...sending },
      },
      build: () => createSmtpProvider({ url, ...pool, dkim, bounceAddress }),
    };
  } else if (config.databaseUrl === undefined) {
    const url = `smtp://127.0.0.1:${config.outboxPort}`;
    smtp = {
      description: {
        channel: 'email',
        name: 'smtp',
        kind: 'dev-outbox',
        default: true,
        settings: { server: url, ...pool, ...sending },
      },
      build: () => createSmtpProvider({ url, ...pool, dkim, bounceAddress }),
    };
  } else {
    const problem =
      'Email needs SMTP_URL (smtp://user:pass@host:587) when Baton runs on PostgreSQL; the dev outbox exists in embedded mode only.';
    smtp = {
      description: { channel: 'email', name: 'smtp', kind: 'smtp', default: true, settings: {}, problem },
      build: () => {
        throw new UserError(problem);
      },
    };
  }
  return [smtp, simulatorEntry('email', false)];
}

/** Where a provider posts its receipts (src/server/routes/webhooks.ts). */
export function webhookUrl(publicUrl: string, provider: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/webhooks/${provider}`;
}

function smsEntries(settings: ProviderSettings, publicUrl: string | undefined): Entry[] {
  const chosen = settings.smsProvider;
  if (!(SMS_PROVIDERS as readonly string[]).includes(chosen)) {
    throw new UserError(`SMS_PROVIDER must be one of ${SMS_PROVIDERS.join(', ')}, not "${chosen}".`);
  }
  if (chosen === 'simulator') return [simulatorEntry('sms', true)];
  const format = chosen as SmsFormat;
  const values = required(settings, `SMS_PROVIDER=${format}`, {
    smsAccount: 'SMS_ACCOUNT',
    smsToken: 'SMS_TOKEN',
    smsFrom: 'SMS_FROM',
  });
  const baseUrl = settings.smsUrl;
  const entry: Entry = {
    description: {
      channel: 'sms',
      name: format,
      kind: format,
      default: true,
      settings: {
        url: baseUrl ?? (format === 'twilio' ? 'https://api.twilio.com' : 'https://rest.nexmo.com'),
        account: hint(values.smsAccount),
        from: values.smsFrom,
        // Where delivery receipts must reach: Vonage's dashboard needs it; Twilio is told per message.
        ...(publicUrl === undefined ? {} : { receipts: webhookUrl(publicUrl, format) }),
      },
    },
    build: () =>
      createHttpSmsProvider({
        format,
        baseUrl,
        account: values.smsAccount,
        token: values.smsToken,
        from: values.smsFrom,
        statusCallbackUrl: publicUrl === undefined ? undefined : webhookUrl(publicUrl, format),
      }),
  };
  return [entry, simulatorEntry('sms', false)];
}

function readServiceAccount(file: string): FcmServiceAccount {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadableFile(`FCM_SERVICE_ACCOUNT (${file})`, error);
  }
  let parsed: Partial<FcmServiceAccount>;
  try {
    parsed = JSON.parse(text) as Partial<FcmServiceAccount>;
  } catch {
    throw new UserError(`FCM_SERVICE_ACCOUNT (${file}) is not JSON: give the service account's key file.`);
  }
  const missing = (['project_id', 'client_email', 'private_key'] as const).filter(
    (field) => typeof parsed[field] !== 'string',
  );
  if (missing.length > 0) {
    throw new UserError(
      `FCM_SERVICE_ACCOUNT (${file}) lacks ${missing.join(', ')}: is it a service account key?`,
    );
  }
  return {
    project_id: parsed.project_id as string,
    client_email: parsed.client_email as string,
    private_key: parsed.private_key as string,
    token_uri: parsed.token_uri ?? 'https://oauth2.googleapis.com/token',
  };
}

function pushEntry(settings: ProviderSettings, chosen: string): Entry {
  const described = (kind: string, values: Record<string, string>): ProviderDescription => ({
    channel: 'push',
    name: kind,
    kind,
    default: true,
    settings: values,
  });
  if (chosen === 'fcm') {
    const { fcmServiceAccount } = required(settings, 'PUSH_PROVIDER=fcm', {
      fcmServiceAccount: 'FCM_SERVICE_ACCOUNT',
    });
    const serviceAccount = readServiceAccount(fcmServiceAccount);
    const baseUrl = settings.fcmUrl;
    return {
      description: described('fcm', {
        project: serviceAccount.project_id,
        account: serviceAccount.client_email,
        url: baseUrl ?? 'https://fcm.googleapis.com',
      }),
      build: () => createFcmProvider({ serviceAccount, baseUrl }),
    };
  }
  if (chosen === 'apns') {
    const values = required(settings, 'PUSH_PROVIDER=apns', {
      apnsKeyFile: 'APNS_KEY_FILE',
      apnsKeyId: 'APNS_KEY_ID',
      apnsTeamId: 'APNS_TEAM_ID',
      apnsTopic: 'APNS_TOPIC',
    });
    let key: string;
    try {
      key = readFileSync(values.apnsKeyFile, 'utf8');
    } catch (error) {
      throw unreadableFile(`APNS_KEY_FILE (${values.apnsKeyFile})`, error);
    }
    const host = settings.apnsHost;
    return {
      description: described('apns', {
        host: host ?? 'https://api.push.apple.com',
        keyId: values.apnsKeyId,
        teamId: values.apnsTeamId,
        topic: values.apnsTopic,
      }),
      build: () =>
        createApnsProvider({
          key,
          keyId: values.apnsKeyId,
          teamId: values.apnsTeamId,
          topic: values.apnsTopic,
          host,
        }),
    };
  }
  const values = required(settings, 'PUSH_PROVIDER=web-push', {
    vapidPublicKey: 'VAPID_PUBLIC_KEY',
    vapidPrivateKey: 'VAPID_PRIVATE_KEY',
    vapidSubject: 'VAPID_SUBJECT',
  });
  return {
    description: described('web-push', { publicKey: values.vapidPublicKey, subject: values.vapidSubject }),
    build: () =>
      createWebPushProvider({
        publicKey: values.vapidPublicKey,
        privateKey: values.vapidPrivateKey,
        subject: values.vapidSubject,
      }),
  };
}

function pushEntries(settings: ProviderSettings): Entry[] {
  const chosen = settings.pushProvider;
  if (!(PUSH_PROVIDERS as readonly string[]).includes(chosen)) {
    throw new UserError(`PUSH_PROVIDER must be one of ${PUSH_PROVIDERS.join(', ')}, not "${chosen}".`);
  }
  if (chosen === 'simulator') return [simulatorEntry('push', true)];
  return [pushEntry(settings, chosen), simulatorEntry('push', false)];
}

function plan(config: ProviderConfig): Entry[] {
  return [
    ...emailEntries(config),
    ...smsEntries(config.providers, config.publicUrl),
    ...pushEntries(config.providers),
  ];
}

/** What each channel would send with, for a settings or health view: names and targets, no secrets. */
export function describeProviders(config: ProviderConfig): ProviderDescription[] {
  return plan(config).map((entry) => entry.description);
}

/** The configured providers; each is built on first use and closed with the set. */
export class ChannelProviders {
  private readonly built = new Map<string, Provider>();

  constructor(
    private readonly entries: Entry[],
    private readonly database: Database,
  ) {}

  /** The provider a channel activity asks for by `provider: <name>`, or the channel's default. */
  get<C extends SendingChannel>(channel: C, name?: string): Provider<C> {
    const candidates = this.entries.filter((entry) => entry.description.channel === channel);
    const entry = name
      ? candidates.find((candidate) => candidate.description.name === name)
      : candidates.find((candidate) => candidate.description.default);
    if (!entry) {
      throw new UserError(
        `No ${channel} provider "${name}": the configured ones are ${candidates.map((c) => c.description.name).join(', ')}.`,
      );
    }
    const key = `${channel}/${entry.description.name}`;
    let provider = this.built.get(key);
    if (!provider) {
      provider = entry.build(this.database);
      this.built.set(key, provider);
    }
    return provider as Provider<C>;
  }

  describe(): ProviderDescription[] {
    return this.entries.map((entry) => entry.description);
  }

  /** Closes every provider built so far (SMTP pools, HTTP/2 sessions). */
  async close(): Promise<void> {
    const providers = [...this.built.values()];
    this.built.clear();
    await Promise.all(providers.map((provider) => provider.close()));
  }
}

/** Checks the settings (a UserError names what is missing) and prepares the providers of every channel. */
export function createProviders(config: ProviderConfig, database: Database): ChannelProviders {
  return new ChannelProviders(plan(config), database);
}
