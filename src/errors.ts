/**
 * Errors that reach a user. A UserError is the user's to fix (bad input, a refused action): the CLI exits 1
 * and the API answers 4xx with the message and, where relevant, every issue with its path. Anything else is
 * an internal error (CLI exit 2, HTTP 500) and its details stay in the logs.
 */
export interface Issue {
  /** Where the problem is, e.g. `tables.profiles.links.store.on.store_id`. */
  path: string;
  message: string;
}

export class UserError extends Error {
  readonly status: number;
  readonly issues: Issue[];

  constructor(message: string, options: { status?: number; issues?: Issue[]; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'UserError';
    this.status = options.status ?? 400;
    this.issues = options.issues ?? [];
  }
}

export class ValidationError extends UserError {
  constructor(what: string, issues: Issue[]) {
    const lines = issues.map((i) => `  - ${i.path ? `${i.path}: ` : ''}${i.message}`);
    super(`${what} is invalid:\n${lines.join('\n')}`, { issues, status: 400 });
    this.name = 'ValidationError';
  }
}

export class NotFoundError extends UserError {
  constructor(message: string) {
    super(message, { status: 404 });
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends UserError {
  constructor(message: string) {
    super(message, { status: 409 });
    this.name = 'ConflictError';
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/**
 * Driver errors a user can act on, turned into user errors: SQLite's "database is locked" after the busy
 * timeout, which means another process holds the write lock (a long import, say), and PostgreSQL's
 * out-of-range arithmetic.
 */
export function asUserError(error: unknown): UserError | undefined {
  if (isUserError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_SNAPSHOT') {
    return new UserError(
      'The database is busy with another write (an import or a schema change in another process); try again when it has finished.',
      { status: 503, cause: error },
    );
  }
  // PostgreSQL refuses arithmetic beyond its 64-bit integers where SQLite silently goes to floating point.
  if (code === '22003') {
    return new UserError(
      'A number computed by the rule is out of range (beyond 64-bit integers); whole numbers in rules and expressions are exact up to 2^53.',
      { cause: error },
    );
  }
  return undefined;
}

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a folder, not a file',
  EMFILE: 'too many open files',
};

/** A file that cannot be read, said plainly: "Cannot read x.csv: no such file." */
export function unreadableFile(file: string, error: unknown): UserError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  return new UserError(`Cannot read ${file}: ${FILE_ERRORS[code] ?? (error as Error).message}.`, {
    cause: error,
  });
}
