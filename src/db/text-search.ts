import { sql, type RawBuilder, type SqlBool } from 'kysely';

/**
 * Whether a text column contains a search text, ignoring case, on both databases: `lower(column) LIKE`
 * with `%`, `_` and the escape character of the search matched literally.
 */
export function containsText(column: string, search: string): RawBuilder<SqlBool> {
  const pattern = `%${search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) LIKE ${pattern} ESCAPE '\\'`;
}
