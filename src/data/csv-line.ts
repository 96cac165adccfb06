/** One CSV line (RFC 4180): fields with a comma, a quote or a line break are quoted, quotes doubled. */
export function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\n\r]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',');
}
