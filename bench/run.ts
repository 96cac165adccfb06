/**
 * `npm run bench -- <name> [options]`: runs one benchmark of bench/. Each prints its figures and the ratio
 * to a lower bound measured in the same run.
 */
const benches: Record<string, () => Promise<{ run: (args: string[]) => Promise<void> }>> = {
  import: () => import('./import.ts'),
  rules: () => import('./rules.ts'),
  engine: () => import('./engine.ts'),
  delivery: () => import('./delivery.ts'),
  scale: () => import('./scale.ts'),
  report: () => import('./report.ts'),
  tracking: () => import('./tracking.ts'),
  feedback: () => import('./feedback.ts'),
};

const [name, ...args] = process.argv.slice(2);
const load = name ? benches[name] : undefined;
if (!load) {
  process.stderr.write(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [options]\n`);
  process.exit(1);
}
await (await load()).run(args);
