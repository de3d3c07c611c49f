/**
 * Partition layout of the usage tables: minute rows in one partition per UTC day, hour rows in one
 * per UTC month, each table with a DEFAULT partition (`…_other`) that takes a row no range covers
 * (a use from far in the past or the future), so writing never fails for want of a partition.
 * Day rows are one plain table: kept forever, one row per key and day.
 */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

export interface PartitionSpec {
  /** The partitioned table, schema-qualified and quoted. */
  parent: string;
  /** The partition's table name (unqualified). */
  name: string;
  /** Its time column: rows with `from <= column < to`. */
  column: string;
  from: Date;
  to: Date;
}

export const MINUTES_TABLE = '"usage"."key_usage_minutes"';
export const MINUTES_OTHER = 'key_usage_minutes_other';
export const HOURS_TABLE = '"usage"."key_usage_hours"';
export const HOURS_OTHER = 'key_usage_hours_other';

export const startOfUtcDay = (ms: number): number => Math.floor(ms / DAY_MS) * DAY_MS;
export const startOfUtcHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
export const startOfUtcMonth = (ms: number): number => {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
};
export const nextUtcMonth = (ms: number): number => {
  const date = new Date(startOfUtcMonth(ms));
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
};

const digits = (date: Date, length: number) =>
  date
    .toISOString()
    .slice(0, length)
    .replace(/[^0-9]/g, '');

/** The day partition of minute rows that holds `ms`: `key_usage_minutes_p20261201`. */
export function minutePartition(ms: number): PartitionSpec {
  const from = new Date(startOfUtcDay(ms));
  return {
    parent: MINUTES_TABLE,
    name: `key_usage_minutes_p${digits(from, 10)}`,
    column: 'minute',
    from,
    to: new Date(from.getTime() + DAY_MS),
  };
}

/** The month partition of hour rows that holds `ms`: `key_usage_hours_p202612`. */
export function hourPartition(ms: number): PartitionSpec {
  const from = new Date(startOfUtcMonth(ms));
  return { parent: HOURS_TABLE, name: `key_usage_hours_p${digits(from, 7)}`, column: 'hour', from, to: new Date(nextUtcMonth(ms)) };
}

/** Partition names this layout creates, and the time each one's range ends (exclusive). */
export function partitionRangeEnd(name: string): number | undefined {
  const day = /^key_usage_minutes_p(\d{4})(\d{2})(\d{2})$/.exec(name);
  if (day) return Date.UTC(Number(day[1]), Number(day[2]) - 1, Number(day[3])) + DAY_MS;
  const month = /^key_usage_hours_p(\d{4})(\d{2})$/.exec(name);
  if (month) return Date.UTC(Number(month[1]), Number(month[2]), 1);
  return undefined;
}

/** Minute partitions are half-filled pages: each row is updated in place many times in its minute (HOT updates). */
const STORAGE: Record<string, string> = { [MINUTES_TABLE]: ' WITH (fillfactor = 50)', [HOURS_TABLE]: '' };

/**
 * Statements that create a partition, moving any rows the DEFAULT partition already holds for its
 * range into it (Postgres refuses to create a partition whose rows sit in the default one). Run
 * them in one transaction.
 */
export function createPartitionStatements(spec: PartitionSpec): { sql: string; parameters: unknown[] }[] {
  const other = spec.parent === MINUTES_TABLE ? MINUTES_OTHER : HOURS_OTHER;
  const range = [spec.from.toISOString(), spec.to.toISOString()];
  const moved = `"moved_${spec.name}"`;
  return [
    // Writes into the default partition wait until the new partition exists (a row slipping in
    // between would make Postgres refuse to create it).
    { sql: `LOCK TABLE "usage"."${other}" IN SHARE ROW EXCLUSIVE MODE`, parameters: [] },
    {
      sql: `CREATE TEMPORARY TABLE ${moved} ON COMMIT DROP AS
              WITH "rows" AS (DELETE FROM "usage"."${other}" WHERE "${spec.column}" >= $1 AND "${spec.column}" < $2 RETURNING *)
              SELECT * FROM "rows"`,
      parameters: range,
    },
    {
      sql: `CREATE TABLE "usage"."${spec.name}" PARTITION OF ${spec.parent}
              FOR VALUES FROM ('${range[0]}') TO ('${range[1]}')${STORAGE[spec.parent]}`,
      parameters: [],
    },
    { sql: `INSERT INTO ${spec.parent} SELECT * FROM ${moved}`, parameters: [] },
  ];
}
