import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Database } from '../db/database.ts';
import { listCampaigns, saveCampaign } from './store.ts';

/** The demo workspace's example campaigns, one YAML document per file. */
export const EXAMPLE_CAMPAIGNS = new URL('../../examples/retail/campaigns/', import.meta.url);

/**
 * Saves the example campaigns as drafts, leaving alone any campaign of the same id already there (a
 * newcomer's edits are never overwritten). Returns the ids saved.
 */
export async function loadExampleCampaigns(database: Database): Promise<string[]> {
  const existing = new Set((await listCampaigns(database)).map((c) => c.id));
  const saved: string[] = [];
  for (const file of readdirSync(EXAMPLE_CAMPAIGNS)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const document = parseYaml(readFileSync(new URL(file, EXAMPLE_CAMPAIGNS), 'utf8')) as { id: string };
    if (existing.has(document.id)) continue;
    await saveCampaign(database, document);
    saved.push(document.id);
  }
  return saved;
}
