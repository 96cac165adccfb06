import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { addFile, filesFolder, listFiles } from '../data/files-folder.ts';
import type { Database } from '../db/database.ts';
import { listCampaigns, saveCampaign } from './store.ts';

/** The demo workspace's example campaigns, one YAML document per file. */
export const EXAMPLE_CAMPAIGNS = new URL('../../examples/retail/campaigns/', import.meta.url);
/** The files they load (load-file), copied to the files folder. */
const EXAMPLE_FILES = new URL('../../examples/retail/files/', import.meta.url);

/**
 * Saves the example campaigns as drafts and puts the files they load in the files folder, leaving alone
 * any campaign of the same id and any file of the same name already there (a newcomer's edits are never
 * overwritten). Returns the ids saved.
 */
export async function loadExampleCampaigns(database: Database): Promise<string[]> {
  const folder = filesFolder(database.dataDir);
  const present = new Set((await listFiles(folder)).map((f) => f.name));
  for (const file of readdirSync(EXAMPLE_FILES).sort())
    if (!present.has(file)) await addFile(folder, fileURLToPath(new URL(file, EXAMPLE_FILES)));
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
