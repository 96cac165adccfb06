import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Database } from '../db/database.ts';
import { CHANNELS } from '../schema/types.ts';
import { liveProcesses } from './process-registry.ts';

/**
 * Prometheus metrics (text exposition format 0.0.4, docs/operations.md lists them). Baton's own are
 * computed from the database at scrape time, so every server reports the same numbers whichever
 * process did the work; the process metrics are those of the server answering the scrape.
 */
export type MetricType = 'gauge' | 'counter';

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

const RUN_STATUSES = ['running', 'waiting', 'pausing', 'paused', 'stopping', 'stopped', 'done', 'failed'];
const UNFINISHED_RUN_STATUSES = ['running', 'waiting', 'pausing', 'paused', 'stopping'];
const RUN_MODES = ['test', 'live'];
const TASK_STATES = [
  'pending',
  'running',
  'waiting',
  'paused',
  'needs-confirmation',
  'done',
  'failed',
  'skipped',
];
const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'excluded',
  'failed',
  'bounced',
  'uncertain',
];
const QUEUED_STATUSES = new Set(['queued', 'sending']);
const PROCESS_KINDS = ['server', 'worker'];
/** The window of baton_send_rate. */
const RATE_WINDOW_MS = 60_000;

/** The text exposition format: HELP and TYPE, then one `name{labels} value` line per sample. */
export function formatMetrics(families: MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {}).map(
        ([name, value]) => `${name}="${escapeLabel(value)}"`,
      );
      lines.push(
        `${family.name}${labels.length ? `{${labels.join(',')}}` : ''} ${formatValue(sample.value)}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/**
 * One sample per combination of the known label values (0 when absent, so that series exist before the
 * first message and alerts on them can fire), then any value the database holds that is not known here.
 */
function series(
  labels: string[],
  known: string[][],
  rows: Array<{ values: string[]; value: number }>,
): Sample[] {
  const samples = new Map<string, Sample>();
  const add = (values: string[], value: number) => {
    const key = JSON.stringify(values);
    const sample = samples.get(key) ?? {
      labels: Object.fromEntries(labels.map((label, i) => [label, values[i] ?? ''])),
      value: 0,
    };
    sample.value += value;
    samples.set(key, sample);
  };
  const combinations = known.reduce<string[][]>(
    (acc, values) => acc.flatMap((prefix) => values.map((v) => [...prefix, v])),
    [[]],
  );
  for (const values of combinations) add(values, 0);
  for (const row of rows) add(row.values, row.value);
  return [...samples.values()];
}

/**
 * Baton's metrics, from four grouped queries and the process registry. The ledger query reads every
 * message (a count by status cannot do less); it goes through `database.read`, so on SQLite it runs in
 * the reader thread and the server's event loop stays free while it scans.
 */
export async function databaseMetrics(database: Database, now: number = Date.now()): Promise<MetricFamily[]> {
  const { db } = database;
  const [runs, tasks, messages, recent, processes] = await Promise.all([
    database.read<{ status: string; mode: string; n: number | string }>(
      db
        .selectFrom('runs')
        .select(['status', 'mode', (eb) => eb.fn.countAll().as('n')])
        .groupBy(['status', 'mode'])
        .compile(),
    ),
    database.read<{ state: string; n: number | string }>(
      db
        .selectFrom('run_tasks')
        .innerJoin('runs', 'runs.id', 'run_tasks.run_id')
        .where('runs.status', 'in', UNFINISHED_RUN_STATUSES)
        .select(['run_tasks.state', (eb) => eb.fn.countAll().as('n')])
        .groupBy('run_tasks.state')
        .compile(),
    ),
    database.read<{ status: string; channel: string; n: number | string; sent: number | string }>(
      db
        .selectFrom('messages')
        .select([
          'status',
          'channel',
          (eb) => eb.fn.countAll().as('n'),
          (eb) => eb.fn.count('sent_at').as('sent'),
        ])
        .groupBy(['status', 'channel'])
        .compile(),
    ),
    database.read<{ channel: string; n: number | string }>(
      db
        .selectFrom('messages')
        .where('sent_at', '>=', new Date(now - RATE_WINDOW_MS).toISOString())
        .select(['channel', (eb) => eb.fn.countAll().as('n')])
        .groupBy('channel')
        .compile(),
    ),
    liveProcesses(database, now),
  ]);
  const channels = [...CHANNELS];
  return [
    {
      name: 'baton_runs',
      help: 'Runs by status and mode (test or live).',
      type: 'gauge',
      samples: series(
        ['status', 'mode'],
        [RUN_STATUSES, RUN_MODES],
        runs.map((r) => ({ values: [r.status, r.mode], value: Number(r.n) })),
      ),
    },
    {
      name: 'baton_tasks',
      help: 'Tasks of the runs not finished (not stopped, done or failed), by state.',
      type: 'gauge',
      samples: series(
        ['state'],
        [TASK_STATES],
        tasks.map((t) => ({ values: [t.state], value: Number(t.n) })),
      ),
    },
    {
      name: 'baton_messages',
      help: 'Messages in the ledger by status and channel.',
      type: 'gauge',
      samples: series(
        ['status', 'channel'],
        [MESSAGE_STATUSES, channels],
        messages.map((m) => ({ values: [m.status, m.channel], value: Number(m.n) })),
      ),
    },
    {
      name: 'baton_queue_depth',
      help: 'Messages waiting to be sent or being sent (queued and sending), by channel.',
      type: 'gauge',
      samples: series(
        ['channel'],
        [channels],
        messages
          .filter((m) => QUEUED_STATUSES.has(m.status))
          .map((m) => ({ values: [m.channel], value: Number(m.n) })),
      ),
    },
    {
      name: 'baton_messages_sent_total',
      help: 'Messages a provider accepted (they have a sent time, whatever became of them after), by channel.',
      type: 'counter',
      samples: series(
        ['channel'],
        [channels],
        messages.map((m) => ({ values: [m.channel], value: Number(m.sent) })),
      ),
    },
    {
      name: 'baton_send_rate',
      help: 'Messages sent per second over the last minute, by channel.',
      type: 'gauge',
      samples: series(
        ['channel'],
        [channels],
        recent.map((r) => ({ values: [r.channel], value: Number(r.n) / (RATE_WINDOW_MS / 1000) })),
      ),
    },
    {
      name: 'baton_processes',
      help: 'Server and worker processes alive (heartbeat within 30 s), by kind.',
      type: 'gauge',
      samples: series(
        ['kind'],
        [PROCESS_KINDS],
        processes.map((p) => ({ values: [p.kind], value: 1 })),
      ),
    },
    {
      name: 'baton_scheduler_leader',
      help: 'Live processes leading the scheduler: 1 normally, 0 when none does, more when several claim it.',
      type: 'gauge',
      samples: [{ value: processes.filter((p) => p.scheduler).length }],
    },
  ];
}

/** Whether the database answered this scrape: Baton's metrics are missing from it when not. */
export function databaseUp(up: boolean): MetricFamily {
  return {
    name: 'baton_database_up',
    help: 'Whether the database answered the metric queries of this scrape (1) or not (0).',
    type: 'gauge',
    samples: [{ value: up ? 1 : 0 }],
  };
}

/**
 * Metrics of this process. Event-loop delay is sampled every 10 ms; its statistics cover the time since
 * the previous scrape, then start over.
 */
export function startProcessMetrics(): { collect(): MetricFamily[]; stop(): void } {
  const resolutionMs = 10;
  const delay = monitorEventLoopDelay({ resolution: resolutionMs });
  delay.enable();
  // The histogram records the time between its timer's ticks: the delay is what exceeds the interval.
  const seconds = (nanoseconds: number) =>
    Number.isFinite(nanoseconds) ? Math.max(0, nanoseconds - resolutionMs * 1e6) / 1e9 : 0;
  return {
    collect() {
      const cpu = process.cpuUsage();
      const sampled = delay.count > 0;
      const families: MetricFamily[] = [
        {
          name: 'process_resident_memory_bytes',
          help: 'Resident memory size in bytes.',
          type: 'gauge',
          samples: [{ value: process.memoryUsage.rss() }],
        },
        {
          name: 'process_cpu_seconds_total',
          help: 'User and system CPU time spent, in seconds.',
          type: 'counter',
          samples: [{ value: (cpu.user + cpu.system) / 1e6 }],
        },
        {
          name: 'process_start_time_seconds',
          help: 'Start time of the process since the Unix epoch, in seconds.',
          type: 'gauge',
          samples: [{ value: Math.round(Date.now() / 1000 - process.uptime()) }],
        },
        {
          name: 'nodejs_eventloop_lag_seconds',
          help: 'Mean event-loop delay since the previous scrape, in seconds.',
          type: 'gauge',
          samples: [{ value: sampled ? seconds(delay.mean) : 0 }],
        },
        {
          name: 'nodejs_eventloop_lag_p99_seconds',
          help: '99th percentile of the event-loop delay since the previous scrape, in seconds.',
          type: 'gauge',
          samples: [{ value: sampled ? seconds(delay.percentile(99)) : 0 }],
        },
        {
          name: 'nodejs_eventloop_lag_max_seconds',
          help: 'Longest event-loop delay since the previous scrape, in seconds.',
          type: 'gauge',
          samples: [{ value: sampled ? seconds(delay.max) : 0 }],
        },
      ];
      delay.reset();
      return families;
    },
    stop() {
      delay.disable();
    },
  };
}
