import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { DatabaseKind } from '../db/dialect.ts';

/**
 * Message ids are deterministic: the same run, activity and recipient always give the same id, so a
 * channel activity executed again (after a crash, a resume) finds its messages instead of making new
 * ones, and a provider taking an idempotency key never delivers one twice.
 *
 * The id is a UUID version 8 (RFC 9562's custom layout) made of the first 122 bits of SHA-256 of the
 * name — not the version 5 (SHA-1) of DESIGN.md, because the ledger computes ids in one set-based
 * statement and PostgreSQL has SHA-256 built in (`sha256()`) but SHA-1 only through pgcrypto. SQLite
 * computes it with a function Baton registers on its connections, sharing this code.
 */
export function messageId(name: string): string {
  return formatUuid8(createHash('sha256').update(name, 'utf8').digest('hex'));
}

/** 32 hex digits → a UUID with version 8 and the RFC variant. */
function formatUuid8(hex: string): string {
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The SQLite function the statement below calls. */
export const MESSAGE_ID_UDF = { name: 'baton_message_id', fn: (name: string) => messageId(name) };

/** `name` (a text expression) → its message id, in SQL, equal to `messageId`. */
export function messageIdSql(kind: DatabaseKind, name: RawBuilder<unknown>): RawBuilder<string> {
  if (kind === 'sqlite') return sql<string>`baton_message_id(${name})`;
  const hex = sql`encode(sha256(convert_to(${name}, 'UTF8')), 'hex')`;
  const part = (from: number, length: number) => sql`substr(${hex}, ${sql.lit(from)}, ${sql.lit(length)})`;
  // The variant digit: the hash's 17th digit with its two high bits set to 10.
  const variant = sql`to_hex((('x' || substr(${hex}, 17, 1))::bit(4)::int & 3) | 8)`;
  return sql<string>`(${part(1, 8)} || '-' || ${part(9, 4)} || '-8' || ${part(14, 3)} || '-' || ${variant} || ${part(18, 3)} || '-' || ${part(21, 12)})`;
}
