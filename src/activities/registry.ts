import { alert } from './alert.ts';
import { andJoin } from './and-join.ts';
import { buildAudience } from './build-audience.ts';
import { changeDimension } from './change-dimension.ts';
import { combine } from './combine.ts';
import { deduplicate } from './deduplicate.ts';
import { directMail } from './direct-mail.ts';
import { email } from './email.ts';
import { end } from './end.ts';
import { enrich } from './enrich.ts';
import { fork } from './fork.ts';
import { incrementalQuery } from './incremental-query.ts';
import { loadFile } from './load-file.ts';
import { push } from './push.ts';
import { readAudience } from './read-audience.ts';
import { reconcile } from './reconcile.ts';
import { saveAudience } from './save-audience.ts';
import { sms } from './sms.ts';
import { split } from './split.ts';
import { test } from './test.ts';
import type { ActivityDefinition } from './types.ts';
import { wait } from './wait.ts';

/** Every activity type, in palette order. */
export const ACTIVITIES: readonly ActivityDefinition[] = [
  buildAudience,
  readAudience,
  incrementalQuery,
  changeDimension,
  combine,
  deduplicate,
  enrich,
  reconcile,
  split,
  saveAudience,
  loadFile,
  fork,
  andJoin,
  wait,
  test,
  alert,
  end,
  email,
  sms,
  push,
  directMail,
];

const BY_TYPE = new Map(ACTIVITIES.map((a) => [a.type, a]));

export function findActivity(type: string): ActivityDefinition | undefined {
  return BY_TYPE.get(type);
}
