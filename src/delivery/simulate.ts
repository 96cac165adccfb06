import { randomBytes, randomUUID } from 'node:crypto';
import { findActivity } from '../activities/registry.ts';
import type { JsonValue } from '../channels/render/context.ts';
import type { SendingChannel } from '../channels/types.ts';
import { ValidationError } from '../errors.ts';
import { TokenSigner } from '../tracking/tokens.ts';
import { compileRenderer, type RenderedMessage } from './renderer.ts';

/** Where simulated messages' Baton links point: nowhere real, like previews'. */
const SIMULATION_URL = 'https://preview.baton.invalid';

/**
 * "Simulate content": a channel activity's content rendered with sample data the author gives (a
 * profile row, the columns its working table would carry), without a campaign run — for writing a
 * template against the cases that matter (an empty name, a long list of purchases…).
 */
export async function simulateContent(input: {
  type: SendingChannel;
  config: unknown;
  samples: Array<{ address: string; profile: Record<string, JsonValue>; target?: Record<string, JsonValue> }>;
  campaign?: { id: string; name: string };
}): Promise<Array<RenderedMessage | { error: string }>> {
  const definition = findActivity(input.type)!;
  const parsed = definition.config.safeParse(input.config);
  if (!parsed.success) {
    throw new ValidationError(
      `The ${input.type} content`,
      parsed.error.issues.map((i) => ({ path: i.path.join('.') || input.type, message: i.message })),
    );
  }
  const render = await compileRenderer(input.type, parsed.data, {
    campaign: input.campaign ?? { id: 'simulation', name: 'Simulation' },
    // The samples' target columns stand for what the working table would carry (enrichment's numbered
    // lines become arrays just the same).
    carried: [...new Set(input.samples.flatMap((s) => Object.keys(s.target ?? {})))].map((name) => ({
      name,
      type: 'string' as const,
    })),
    signer: new TokenSigner({ current: { id: 0, secret: randomBytes(32).toString('hex') }, previous: [] }),
    publicUrl: SIMULATION_URL,
    tracking: false,
  });
  const results: Array<RenderedMessage | { error: string }> = [];
  for (const sample of input.samples) {
    try {
      // The sample's carried columns are given by name, as the working table would carry them.
      results.push(
        await render({
          id: randomUUID(),
          address: sample.address,
          profile: sample.profile,
          row: sample.target ?? {},
        }),
      );
    } catch (error) {
      results.push({ error: (error as Error).message });
    }
  }
  return results;
}
