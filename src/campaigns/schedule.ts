import { ValidationError, type Issue } from '../errors.ts';
import { launchesAfter, validity } from './schedule/launches.ts';
import { SCHEDULE_FREQUENCIES, SCHEDULE_KEYS, scheduleSchema, type Schedule } from './schedule/schema.ts';
import { formatLocal, instantOf, parseLocal } from './schedule/zone-time.ts';

/**
 * Campaign schedules (docs/schedules.md): the checked form of a document's `schedule`, its launch times in
 * its time zone, the preview, the checks made at publish time and the policy for launches missed while
 * Baton was down. Pure: every function takes "now" from its caller.
 */
export {
  MIN_INTERVAL_MINUTES,
  SCHEDULE_FREQUENCIES,
  WEEKDAYS,
  type Schedule,
  type ScheduleFrequency,
  type Weekday,
} from './schedule/schema.ts';
export { PARAMETER_TYPES, type ParameterType, type SignalParameter } from './schedule/signal.ts';

/** How late a missed launch may still run, at most (see dueLaunch). */
export const CATCH_UP_GRACE_MS = 3_600_000;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function joinPath(base: string, parts: ReadonlyArray<PropertyKey>): string {
  return parts.reduce<string>(
    (p, part) => (typeof part === 'number' ? `${p}[${part}]` : p ? `${p}.${String(part)}` : String(part)),
    base,
  );
}

function valueAt(raw: unknown, parts: ReadonlyArray<PropertyKey>): unknown {
  let value = raw;
  for (const part of parts)
    value =
      typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[part] : undefined;
  return value;
}

/**
 * Checks a document's `schedule` and fills in its defaults; throws a ValidationError naming every problem,
 * each with its path under `path` (`schedule.at`, `schedule.parameters[0].type`).
 */
export function parseSchedule(raw: unknown, path = 'schedule'): Schedule {
  if (!isRecord(raw))
    throw new ValidationError('The schedule', [
      {
        path,
        message: 'expected a schedule such as { frequency: daily, at: "09:00", timezone: Europe/Rome }',
      },
    ]);
  const result = scheduleSchema.safeParse(raw);
  if (result.success) return result.data;
  const issues: Issue[] = [];
  for (const problem of result.error.issues) {
    if (problem.code === 'invalid_union' && problem.discriminator === 'frequency') {
      issues.push({
        path: `${path}.frequency`,
        message: `expected one of ${SCHEDULE_FREQUENCIES.join(', ')}`,
      });
    } else if (problem.code === 'unrecognized_keys') {
      const frequency = raw.frequency as keyof typeof SCHEDULE_KEYS;
      const known = SCHEDULE_KEYS[frequency].join(', ');
      for (const key of problem.keys)
        issues.push({
          path: joinPath(path, [...problem.path, key]),
          message:
            problem.path.length === 0
              ? `unknown key "${key}" for a ${frequency} schedule (known: ${known})`
              : `unknown key "${key}"`,
        });
    } else {
      const missing = problem.code === 'invalid_type' && valueAt(raw, problem.path) === undefined;
      issues.push({
        path: joinPath(path, problem.path),
        message: `${missing ? 'missing: ' : ''}${problem.message}`,
      });
    }
  }
  throw new ValidationError('The schedule', issues);
}

/**
 * The next `count` launch instants strictly after `after`, in order, within the validity window. Empty
 * for `asap` and `signal` (started by hand or by a trigger) and for a `once` that is not after `after`.
 */
export function nextLaunches(schedule: Schedule, after: Date, count: number): Date[] {
  const launches: Date[] = [];
  if (count <= 0) return launches;
  for (const at of launchesAfter(schedule, after.getTime())) {
    launches.push(new Date(at));
    if (launches.length >= count) break;
  }
  return launches;
}

export interface LaunchPreview {
  at: Date;
  /** The wall-clock time in the schedule's zone with its offset, `2026-03-29T03:00+02:00`. */
  local: string;
}

/**
 * The launch times the API and the CLI show: the next ones after `now`, so a recurring schedule whose
 * first slot (or validFrom) is past rolls to its next slot.
 */
export function previewLaunches(schedule: Schedule, now: Date, count = 10): LaunchPreview[] {
  if (schedule.frequency === 'asap' || schedule.frequency === 'signal') return [];
  const zone = schedule.timezone;
  return nextLaunches(schedule, now, count).map((at) => ({ at, local: formatLocal(zone, at.getTime()) }));
}

/**
 * What keeps a valid schedule from being published at `now`: a `once` time that has passed, a validity
 * window that has ended, or a window with no launch left in it. Paths are under `path`.
 */
export function scheduleProblems(schedule: Schedule, now: Date, path = 'schedule'): Issue[] {
  if (schedule.frequency === 'asap' || schedule.frequency === 'signal') return [];
  const zone = schedule.timezone;
  if (schedule.frequency === 'once') {
    const at = instantOf(zone, parseLocal(schedule.at)!);
    return at > now.getTime()
      ? []
      : [
          {
            path: `${path}.at`,
            message: `${schedule.at} (${zone}) is in the past; choose a later time, or use frequency: asap to start the campaign by hand`,
          },
        ];
  }
  if (nextLaunches(schedule, now, 1).length > 0) return [];
  if (validity(schedule).end <= now.getTime())
    return [
      {
        path: `${path}.validUntil`,
        message: `the validity window ended (${schedule.validUntil}, ${zone}); move validUntil later or remove it`,
      },
    ];
  return [
    {
      path,
      message: `no launch time is left in the validity window${schedule.validUntil ? ` (until ${schedule.validUntil})` : ''}; widen the window or change the days`,
    },
  ];
}

/**
 * The missed-launch policy: which slot, if any, the scheduler launches now. `lastLaunchedAt` is the latest
 * slot already dealt with — launched, or skipped — and, before the first launch, the moment the schedule
 * was published, so slots before publishing are never run; null counts every slot in the grace period.
 *
 * Of the slots after `lastLaunchedAt` and not after `now`, only the latest may launch, once (a slot, not a
 * backlog: one run catches up however many were missed), and only if it is at most `graceMs` old (default
 * one hour) and at most half the time to the slot after it — a run later than that is nearer the next
 * launch than its own. Older missed slots are skipped. After a launch the caller's marker becomes the slot
 * launched (the run keeps that slot as its time, not the minute it started); when nothing is due, the caller
 * records the slots it skipped (those of `nextLaunches(schedule, marker, …)` up to `now`) and moves the
 * marker to `now`.
 */
export function dueLaunch(
  schedule: Schedule,
  lastLaunchedAt: Date | null,
  now: Date,
  graceMs = CATCH_UP_GRACE_MS,
): Date | null {
  // A slot exactly graceMs old is still due, hence the millisecond before.
  const since = Math.max(lastLaunchedAt?.getTime() ?? -Infinity, now.getTime() - graceMs - 1);
  let latest: number | undefined;
  let following: number | undefined;
  for (const at of launchesAfter(schedule, since)) {
    if (at > now.getTime()) {
      following = at;
      break;
    }
    latest = at;
  }
  if (latest === undefined) return null;
  const grace = following === undefined ? graceMs : Math.min(graceMs, (following - latest) / 2);
  return now.getTime() - latest <= grace ? new Date(latest) : null;
}
