import { sql, type Kysely, type Migration } from 'kysely';
import type { DatabaseKind } from '../dialect.ts';

/**
 * Baton's own tables, as versioned migrations. Migrations are append-only: a released one is never edited,
 * a change is a new entry. Timestamps are `timestamptz` on PostgreSQL and ISO 8601 text on SQLite.
 */
export function batonMigrations(kind: DatabaseKind): Record<string, Migration> {
  const timestamp = kind === 'sqlite' ? 'text' : 'timestamptz';
  const bool = kind === 'sqlite' ? 'integer' : 'boolean';
  const serial = kind === 'sqlite' ? 'integer' : 'bigserial';
  return {
    '0001_workspace_and_imports': {
      async up(db: Kysely<unknown>) {
        if (kind === 'postgres') await sql`CREATE SCHEMA IF NOT EXISTS data`.execute(db);
        await db.schema
          .createTable('workspace_schemas')
          .addColumn('version', 'integer', (c) => c.primaryKey())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('applied_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('imports')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('table_name', 'text', (c) => c.notNull())
          .addColumn('file_name', 'text', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('dry_run', sql.raw(bool), (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('rows_read', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('inserted', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('updated', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('deleted', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('not_found', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('duplicates', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('rejected_rows', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('committed_rows', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('message', 'text')
          .addColumn('header', 'text')
          .addColumn('started_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('finished_at', sql.raw(timestamp))
          .execute();
        await db.schema
          .createIndex('imports_by_table')
          .on('imports')
          .columns(['table_name', 'started_at'])
          .execute();
        await db.schema
          .createTable('import_rejections')
          .addColumn('id', sql.raw(serial), (c) => c.primaryKey())
          .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id').onDelete('cascade'))
          .addColumn('line', 'integer', (c) => c.notNull())
          .addColumn('column_name', 'text')
          .addColumn('value', 'text')
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('record', 'text', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('import_rejections_by_import')
          .on('import_rejections')
          .columns(['import_id', 'line'])
          .execute();
      },
    },
    '0002_saved_filters': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('saved_filters')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('label', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('dimension', 'text', (c) => c.notNull())
          .addColumn('rule', 'text', (c) => c.notNull())
          .addColumn('parameters', 'text', (c) => c.notNull())
          .addColumn('shared', sql.raw(bool), (c) => c.notNull())
          .addColumn('favorite', sql.raw(bool), (c) => c.notNull())
          .addColumn('owner', 'text')
          .addColumn('created_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('updated_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('saved_filters_by_label')
          .on('saved_filters')
          .columns(['label'])
          .unique()
          .execute();
      },
    },
    '0003_campaigns': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('campaigns')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('description', 'text')
          .addColumn('tags', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('created_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('updated_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
      },
    },
    '0004_runs': {
      async up(db: Kysely<unknown>) {
        if (kind === 'postgres') await sql`CREATE SCHEMA IF NOT EXISTS work`.execute(db);
        await db.schema
          .createTable('runs')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('trigger', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('now_ms', 'bigint', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('started_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('finished_at', sql.raw(timestamp))
          .execute();
        await db.schema
          .createIndex('runs_by_campaign')
          .on('runs')
          .columns(['campaign_id', 'started_at'])
          .execute();
        await db.schema
          .createTable('run_tasks')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('state', 'text', (c) => c.notNull())
          .addColumn('error', 'text')
          .addColumn('started_at', sql.raw(timestamp))
          .addColumn('finished_at', sql.raw(timestamp))
          .addPrimaryKeyConstraint('run_tasks_pk', ['run_id', 'activity'])
          .execute();
        await db.schema
          .createTable('run_transitions')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('port', 'text', (c) => c.notNull())
          .addColumn('working_table', 'text', (c) => c.notNull())
          .addColumn('dimension', 'text')
          .addColumn('row_count', 'bigint', (c) => c.notNull())
          .addColumn('created_at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('run_transitions_pk', ['run_id', 'activity', 'port'])
          .execute();
        await db.schema
          .createTable('run_logs')
          .addColumn('id', sql.raw(serial), (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('activity', 'text')
          .addColumn('level', 'text', (c) => c.notNull())
          .addColumn('message', 'text', (c) => c.notNull())
          .addColumn('at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema.createIndex('run_logs_by_run').on('run_logs').columns(['run_id', 'id']).execute();
      },
    },
    '0005_transition_columns': {
      async up(db: Kysely<unknown>) {
        // The columns enrichment added to a transition's rows, as JSON [{ name, type }].
        await db.schema.alterTable('run_transitions').addColumn('columns', 'text').execute();
      },
    },
    '0006_run_purge': {
      async up(db: Kysely<unknown>) {
        // When the run's working tables were dropped after the retention (its counts and logs stay).
        await db.schema.alterTable('runs').addColumn('purged_at', sql.raw(timestamp)).execute();
      },
    },
    '0007_incremental_marks': {
      async up(db: Kysely<unknown>) {
        // Where each incremental query of a campaign got to: the latest value of its date-time field it
        // returned, kept apart for test runs so that testing never moves a live campaign's mark.
        await db.schema
          .createTable('incremental_marks')
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('mode', 'text', (c) => c.notNull())
          .addColumn('mark_ms', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('incremental_marks_pk', ['campaign_id', 'activity', 'mode'])
          .execute();
      },
    },
    '0009_audiences': {
      async up(db: Kysely<unknown>) {
        // Saved audiences: a name, whose it is (the save-audience activity of one campaign), and the table
        // holding its members, which lives apart from working tables so run retention never reaches it.
        if (kind === 'postgres') await sql`CREATE SCHEMA IF NOT EXISTS audiences`.execute(db);
        await db.schema
          .createTable('audiences')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('name', 'text', (c) => c.notNull().unique())
          .addColumn('dimension', 'text', (c) => c.notNull())
          .addColumn('columns', 'text', (c) => c.notNull())
          .addColumn('row_count', 'bigint', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('members_table', 'text', (c) => c.notNull())
          .addColumn('saved_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
      },
    },
    '0010_ledger': {
      async up(db: Kysely<unknown>) {
        // One row per channel activity execution: what the senders need to render its messages.
        await db.schema
          .createTable('deliveries')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('provider', 'text', (c) => c.notNull())
          .addColumn('dimension', 'text', (c) => c.notNull())
          .addColumn('working_table', 'text', (c) => c.notNull())
          .addColumn('columns', 'text', (c) => c.notNull())
          .addColumn('config', 'text', (c) => c.notNull())
          .addColumn('created_at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('deliveries_pk', ['run_id', 'activity'])
          .execute();
        // The ledger: one row per message, from queued or excluded to its final state.
        await db.schema
          .createTable('messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('address', 'text')
          .addColumn('position', 'bigint', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('reason', 'text')
          .addColumn('bounce', 'text')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('lease_owner', 'text')
          .addColumn('lease_until', 'bigint')
          .addColumn('provider', 'text')
          .addColumn('provider_message_id', 'text')
          .addColumn('links', 'text')
          .addColumn('queued_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('sent_at', sql.raw(timestamp))
          .addColumn('updated_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('messages_to_send')
          .on('messages')
          .columns(['status', 'next_attempt_at'])
          .execute();
        await db.schema
          .createIndex('messages_by_activity')
          .on('messages')
          .columns(['run_id', 'activity', 'status'])
          .execute();
        // A recipient's message in a send: the `sent` output and direct mail join on it.
        await db.schema
          .createIndex('messages_of_recipient')
          .on('messages')
          .columns(['run_id', 'activity', 'recipient'])
          .execute();
        await db.schema
          .createIndex('messages_by_recipient')
          .on('messages')
          .columns(['channel', 'recipient', 'sent_at'])
          .execute();
        // Addresses that bounced hard or complained: never sent to again on that channel.
        await db.schema
          .createTable('quarantine')
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text')
          .addColumn('at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('quarantine_pk', ['channel', 'address'])
          .execute();
        // Recipients who opted out of a channel (unsubscribe links, complaints).
        await db.schema
          .createTable('unsubscriptions')
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text')
          .addColumn('at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('unsubscriptions_pk', ['channel', 'address'])
          .execute();
        // What a test run's channel activities would send: rendered messages of a sample of recipients.
        await db.schema
          .createTable('message_previews')
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('content', 'text', (c) => c.notNull())
          .addPrimaryKeyConstraint('message_previews_pk', ['run_id', 'activity', 'recipient'])
          .execute();
        // The token buckets that hold each provider to its rate, shared by every sender.
        await db.schema
          .createTable('rate_buckets')
          .addColumn('provider', 'text', (c) => c.primaryKey())
          .addColumn('tokens', 'double precision', (c) => c.notNull())
          // How many the last UPDATE took: what it returns to its sender.
          .addColumn('taken', 'integer', (c) => c.notNull())
          .addColumn('updated_ms', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0008_run_control': {
      async up(db: Kysely<unknown>) {
        // Who executes a run, and until when that claim holds (epoch ms): a run whose process died is
        // taken over once its lease has lapsed.
        await db.schema.alterTable('runs').addColumn('lease_owner', 'text').execute();
        await db.schema.alterTable('runs').addColumn('lease_until', 'bigint').execute();
        // A waiting task's durable timer (epoch ms, on the run's clock), and a breakpoint let through.
        await db.schema.alterTable('run_tasks').addColumn('wake_at', 'bigint').execute();
        await db.schema
          .alterTable('run_tasks')
          .addColumn('released', sql.raw(bool), (c) => c.notNull().defaultTo(sql.lit(false)))
          .execute();
        await db.schema
          .alterTable('run_tasks')
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        // Whether the transition fired (a skip-empty segment is recorded with its count but does not).
        await db.schema
          .alterTable('run_transitions')
          .addColumn('fired', sql.raw(bool), (c) => c.notNull().defaultTo(sql.lit(true)))
          .execute();
        // Structured fields of a log line, as JSON ({ rows, ms, port… }).
        await db.schema.alterTable('run_logs').addColumn('fields', 'text').execute();
        await db.schema.createIndex('runs_by_status').on('runs').columns(['status']).execute();
        // Signals sent by `end` activities to other campaigns, consumed by their signal schedules.
        await db.schema
          .createTable('campaign_signals')
          .addColumn('id', sql.raw(serial), (c) => c.primaryKey())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('parameters', 'text', (c) => c.notNull())
          .addColumn('source_run', 'text', (c) => c.notNull())
          .addColumn('source_activity', 'text', (c) => c.notNull())
          .addColumn('created_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('consumed_at', sql.raw(timestamp))
          .execute();
      },
    },
    '0011_outbox': {
      async up(db: Kysely<unknown>) {
        // What the dev outbox received and what the simulators were given: one row per message and
        // recipient. The simulators' ids are derived from the idempotency key, so a resend adds nothing.
        await db.schema
          .createTable('outbox_messages')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text')
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('sender', 'text')
          .addColumn('subject', 'text')
          .addColumn('text', 'text')
          .addColumn('html', 'text')
          .addColumn('headers', 'text', (c) => c.notNull())
          .addColumn('raw', 'text')
          .addColumn('provider_id', 'text')
          .addColumn('received_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('outbox_messages_by_time')
          .on('outbox_messages')
          .columns(['received_at', 'id'])
          .execute();
      },
    },
    '0012_per_row_messages': {
      // One message per row of a link (perRowOf): the row's key, as text, beside the recipient's.
      async up(db) {
        await db.schema.alterTable('messages').addColumn('item', 'text').execute();
      },
    },
    '0013_lifecycle': {
      // Publishing, versions, schedules, send confirmations and the processes sharing the work (issue 6).
      async up(db) {
        await db.schema.alterTable('campaigns').addColumn('version', 'integer').execute();
        await db.schema.alterTable('campaigns').addColumn('status_changed_at', sql.raw(timestamp)).execute();
        await db.schema.alterTable('runs').addColumn('version', 'integer').execute();
        await db.schema.alterTable('runs').addColumn('variables', 'text').execute();
        // What became of an end activity's signal: the run it started, or why none.
        await db.schema.alterTable('campaign_signals').addColumn('outcome', 'text').execute();
        await db.schema
          .createTable('campaign_versions')
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('document', 'text', (c) => c.notNull())
          .addColumn('published_at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('campaign_versions_pk', ['campaign_id', 'version'])
          .execute();
        await db.schema
          .createTable('schedules')
          .addColumn('campaign_id', 'text', (c) => c.primaryKey())
          .addColumn('version', 'integer', (c) => c.notNull())
          .addColumn('schedule', 'text', (c) => c.notNull())
          .addColumn('next_at', 'bigint')
          .addColumn('last_at', 'bigint')
          .addColumn('updated_at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema.createIndex('schedules_due').on('schedules').column('next_at').execute();
        await db.schema
          .createTable('send_confirmations')
          .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('confirmed_at', sql.raw(timestamp), (c) => c.notNull())
          .addPrimaryKeyConstraint('send_confirmations_pk', ['run_id', 'activity'])
          .execute();
        // The send rate and sent counts of /metrics read the ledger by time.
        await db.schema.createIndex('messages_by_sent_at').on('messages').column('sent_at').execute();
        await db.schema
          .createTable('workers')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('host', 'text', (c) => c.notNull())
          .addColumn('pid', 'integer', (c) => c.notNull())
          .addColumn('started_at', sql.raw(timestamp), (c) => c.notNull())
          .addColumn('seen_ms', 'bigint', (c) => c.notNull())
          .addColumn('scheduler', 'boolean', (c) => c.notNull().defaultTo(false))
          .execute();
      },
    },
    '0014_events': {
      // Tracking and provider feedback (issue 7): one row per event, append-only; what reports count and
      // retargeting rules read (the `events` system link).
      async up(db) {
        await db.schema.alterTable('messages').addColumn('delivered_at', sql.raw(timestamp)).execute();
        await db.schema
          .createTable('events')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('link', 'integer')
          .addColumn('url', 'text')
          .addColumn('human', 'boolean', (c) => c.notNull())
          .addColumn('machine_reason', 'text')
          .addColumn('user_agent', 'text')
          .addColumn('bounce', 'text')
          .addColumn('reason', 'text')
          .addColumn('at', sql.raw(timestamp), (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('events_of_message')
          .on('events')
          .columns(['message_id', 'type'])
          .execute();
        await db.schema
          .createIndex('events_of_campaign')
          .on('events')
          .columns(['campaign_id', 'type', 'at'])
          .execute();
        await db.schema
          .createIndex('events_of_recipient')
          .on('events')
          .columns(['recipient', 'type', 'at'])
          .execute();
      },
    },
    '0015_report_rollups': {
      // Reports read per-minute roll-ups of the events instead of counting millions of them, and the first
      // event of each kind per message, which makes unique counts additive (docs/reports.md). Both are
      // written in the transaction that inserts the events, and can be rebuilt from them.
      async up(db) {
        await db.schema
          .createTable('report_minutes')
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('human', 'integer', (c) => c.notNull())
          .addColumn('minute', 'bigint', (c) => c.notNull())
          .addColumn('events', 'bigint', (c) => c.notNull())
          .addColumn('uniques', 'bigint', (c) => c.notNull())
          .addColumn('first_any', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('report_minutes_pk', [
            'campaign_id',
            'run_id',
            'activity',
            'channel',
            'type',
            'human',
            'minute',
          ])
          .execute();
        await db.schema
          .createTable('report_firsts')
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('type', 'text', (c) => c.notNull())
          .addColumn('campaign_id', 'text', (c) => c.notNull())
          .addColumn('run_id', 'text', (c) => c.notNull())
          .addColumn('activity', 'text', (c) => c.notNull())
          .addColumn('channel', 'text', (c) => c.notNull())
          .addColumn('human_ms', 'bigint')
          .addColumn('machine_ms', 'bigint')
          .addPrimaryKeyConstraint('report_firsts_pk', ['message_id', 'type'])
          .execute();
        await db.schema
          .createIndex('report_firsts_of_campaign')
          .on('report_firsts')
          .columns(['campaign_id', 'type'])
          .execute();
        // The ledger's side of a report is counted from this index alone (a scan of 1M messages' rows
        // took seconds on SQLite). It starts with messages_by_activity's columns, which it replaces, so
        // the ledger's writers keep one index to maintain, not two.
        await db.schema
          .createIndex('messages_for_reports')
          .on('messages')
          .columns(['run_id', 'activity', 'status', 'channel', 'reason', 'bounce', 'sent_at', 'delivered_at'])
          .execute();
        await db.schema.dropIndex('messages_by_activity').execute();
      },
    },
    '0016_events_without_message_index': {
      // Every tracking event was written into three secondary indexes, two of them (by message, by
      // recipient) on random pages: most of an event's write cost. The only reader of the message index,
      // a message's trace, finds its events through the recipient index as well (the ledger row names the
      // recipient), so the index goes.
      async up(db) {
        await db.schema.dropIndex('events_of_message').execute();
      },
    },
  };
}
