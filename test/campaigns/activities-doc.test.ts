import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ACTIVITIES } from '../../src/activities/registry.ts';
import { checkCampaign } from '../../src/campaigns/document.ts';
import { DEMO_SCHEMA_FILE } from '../../src/data/demo/load-demo.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';

/**
 * docs/activities.md promises that every example in it is a valid campaign on the demo workspace: each
 * ```yaml activity block is a map of activities, checked here as a whole campaign document.
 */
const doc = readFileSync(new URL('../../docs/activities.md', import.meta.url), 'utf8');
const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'));

interface Example {
  /** The ### heading the block sits under (the activity type it documents). */
  section: string;
  /** 1-based line of the opening fence. */
  line: number;
  source: string;
}

function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  const lines = markdown.split('\n');
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('```')) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && !lines[i]!.startsWith('```'); i++) body.push(lines[i]!);
      if (line.trim() === '```yaml activity')
        examples.push({ section, line: start + 1, source: body.join('\n') });
    } else if (line.startsWith('### ')) section = line.slice(4).trim();
  }
  return examples;
}

function problems(activities: unknown): string[] {
  try {
    checkCampaign(schema, { id: 'doc-example', name: 'Doc example', activities });
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.issues.map((i) => `${i.path}: ${i.message}`);
  }
}

function typesOf(activities: unknown): string[] {
  if (typeof activities !== 'object' || activities === null) return [];
  return Object.values(activities).map((a) => String((a as { type?: unknown } | null)?.type));
}

const examples = examplesOf(doc);

describe('docs/activities.md', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(ACTIVITIES.length);
  });

  for (const example of examples) {
    it(`${example.section} example (line ${example.line}) is a valid campaign on the demo workspace`, () => {
      const activities = parseYaml(example.source) as unknown;
      expect(typeof activities === 'object' && activities !== null && !Array.isArray(activities)).toBe(true);
      expect(problems(activities)).toEqual([]);
    });
  }

  it('uses every activity type in at least one example', () => {
    const used = new Set(examples.flatMap((e) => typesOf(parseYaml(e.source) as unknown)));
    expect(ACTIVITIES.map((a) => a.type).filter((type) => !used.has(type))).toEqual([]);
  });

  it('has a section per activity type, in registry order, each with its own example', () => {
    const headings = [...doc.matchAll(/^### (\S+)$/gm)].map((m) => m[1]!);
    const types = ACTIVITIES.map((a) => a.type);
    expect(headings.filter((h) => types.includes(h))).toEqual(types);
    const documented = new Set(examples.map((e) => e.section));
    expect(types.filter((type) => !documented.has(type))).toEqual([]);
  });

  it('documents every config key of every activity type', () => {
    const missing: string[] = [];
    for (const activity of ACTIVITIES) {
      const start = doc.indexOf(`\n### ${activity.type}\n`);
      const end = doc.indexOf('\n### ', start + 1);
      const section = doc.slice(start, end < 0 ? undefined : end);
      const shape = configKeys(activity.config);
      expect(shape.length, activity.type).toBeGreaterThan(0);
      for (const key of shape) if (!section.includes(`\`${key}\``)) missing.push(`${activity.type}.${key}`);
    }
    expect(missing).toEqual([]);
  });
});

/** The top-level keys of an activity's config schema (a zod object, possibly wrapped in refinements). */
function configKeys(config: unknown): string[] {
  const shape = (config as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}
