import { asUserError } from '../errors.ts';

/** Exit codes of every command (DESIGN.md "REST API and CLI"). */
export const EXIT_OK = 0;
export const EXIT_USER_ERROR = 1;
export const EXIT_INTERNAL_ERROR = 2;

export interface Output {
  json: boolean;
  /** The result: one JSON document on stdout with --json, the human text otherwise. */
  result(value: unknown, human: string): void;
  /** Human-only notes (progress, hints) go to stderr so stdout stays a clean result. */
  note(text: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human}\n`);
    },
    note(text) {
      if (!json) process.stderr.write(`${text}\n`);
    },
  };
}

/** Reports an error and gives the exit code: 1 for the user's errors, 2 for ours. */
export function reportError(error: unknown, json: boolean): number {
  const user = asUserError(error);
  const message = user ? user.message : `internal error: ${(error as Error)?.stack ?? String(error)}`;
  if (json) {
    const issues = user ? user.issues : [];
    process.stdout.write(
      `${JSON.stringify({ error: { message: user ? user.message : 'internal error', issues } }, null, 2)}\n`,
    );
  }
  process.stderr.write(`error: ${message}\n`);
  return user ? EXIT_USER_ERROR : EXIT_INTERNAL_ERROR;
}
