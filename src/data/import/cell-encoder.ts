import type { SqlDialect } from '../../db/dialect.ts';
import type { ColumnDef } from '../../schema/types.ts';
import { parseCell } from '../cell-values.ts';

/**
 * One column's CSV field → the text a bulk write carries (`SqlDialect.encodeForBulk`), or why it is
 * rejected. Built once per column per import. The common shapes (plain strings, canonical integers, exact
 * booleans) are recognised and passed through without making a typed value first;
 * everything else goes the general way (`parseCell`, then `encodeForBulk`), and a property test holds the
 * two ways equal.
 */
export class CellRejection {
  constructor(readonly reason: string) {}
}

export type CellEncoder = (field: string | null) => string | null | CellRejection;

const CANONICAL_INTEGER = /^(0|-?[1-9]\d{0,14})$/;
const BOOLEAN_TEXT = new Map([
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['yes', true],
  ['no', false],
]);

export function cellEncoder(column: ColumnDef, dialect: SqlDialect): CellEncoder {
  const general: CellEncoder = (field) => {
    const parsed = parseCell(column, field);
    return parsed.ok ? dialect.encodeForBulk(column.type, parsed.value) : new CellRejection(parsed.reason);
  };
  const empty = dialect.encodeForBulk(column.type, null);
  switch (column.type) {
    case 'string':
      if (column.values) return general;
      return (field) =>
        field === null
          ? empty
          : field.includes('\u0000')
            ? general(field)
            : dialect.encodeForBulk('string', field);
    case 'integer':
      return (field) => (field !== null && CANONICAL_INTEGER.test(field) ? field : general(field));
    case 'boolean': {
      const yes = dialect.encodeForBulk('boolean', true);
      const no = dialect.encodeForBulk('boolean', false);
      return (field) => {
        const value = field === null ? undefined : BOOLEAN_TEXT.get(field);
        return value === undefined ? general(field) : value ? yes : no;
      };
    }
    default:
      return general;
  }
}
