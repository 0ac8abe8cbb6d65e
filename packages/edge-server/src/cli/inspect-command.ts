/**
 * `strata inspect`: one stream's events (version, type, ids, times, data) in a tenant, as a
 * table or JSON, read straight from the database (no server needed; a PGlite folder must not be
 * in use by a running server).
 */
import type { StoredEvent } from '@strata/core';
import { openNodeDatabase } from '../node/server.ts';
import { createPostgresEventStore } from '../postgres/postgres-event-store.ts';
import { SINGLE_TENANT } from '../runtimes/env.ts';
import { type CliCommand, parseCommandArgs, UsageError, wholeNumberOption } from './cli-command.ts';

/** The widest data column of the table; `--json` gives whole payloads. */
const DATA_WIDTH = 60;

export const inspectCommand: CliCommand = {
  name: 'inspect',
  summary: "print a stream's events and versions",
  help: `usage: strata inspect AGGREGATE_TYPE AGGREGATE_ID [--tenant T] [--from-version N] [--limit N] [--json] [--data-dir DIR]

Prints the events of one stream (an aggregate) of one tenant, oldest first: version, type,
schema version, id, global position, when it occurred and was recorded, the user who wrote it,
and its data (cut to ${DATA_WIDTH} characters in the table; whole with --json). Stored payloads
are shown as stored (an encrypted stream's ciphertext).

Options:
  --tenant T          the tenant; default "${SINGLE_TENANT}" (the tenant of a server without JWT_SECRET)
  --from-version N    the first version to show; default 1
  --limit N           the most events to show; default all
  --json              one JSON document: { tenant, aggregateType, aggregateId, version, events }
  --data-dir DIR      PGlite's folder when DATABASE_URL is unset; default STRATA_DATA_DIR, else .data/strata

A stream with no events (in that tenant) is a failure (exit code 1).

Environment: DATABASE_URL (else PGlite), STRATA_DATA_DIR, NEON_WS_PROXY.`,
  async run(args, output) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        tenant: { type: 'string' },
        'from-version': { type: 'string' },
        limit: { type: 'string' },
        json: { type: 'boolean' },
        'data-dir': { type: 'string' },
      },
      true,
    );
    const [aggregateType, aggregateId, ...extra] = positionals;
    if (aggregateType === undefined || aggregateId === undefined || extra.length > 0) {
      throw new UsageError('inspect takes AGGREGATE_TYPE AGGREGATE_ID (e.g. Todo todo-1)');
    }
    const fromVersion = wholeNumberOption('from-version', values['from-version'], 1);
    const limit = wholeNumberOption('limit', values.limit, 1);
    const tenant = values.tenant ?? SINGLE_TENANT;
    const dataDir = values['data-dir'];
    const database = await openNodeDatabase(dataDir === undefined ? {} : { dataDir });
    try {
      const store = createPostgresEventStore(database.database, { tenant });
      const stream = { aggregateType, aggregateId };
      const version = await store.streamVersion(stream);
      if (version === 0) {
        throw new Error(`No stream ${aggregateType}/${aggregateId} in tenant ${tenant}`);
      }
      const events = await store.readStream(stream, {
        ...(fromVersion === undefined ? {} : { fromVersion }),
        ...(limit === undefined ? {} : { limit }),
      });
      if (values.json === true) {
        output.log(
          JSON.stringify({ tenant, aggregateType, aggregateId, version, events }, null, 2),
        );
        return;
      }
      output.log(`${aggregateType}/${aggregateId} in tenant ${tenant}: version ${version}`);
      output.log(eventTable(events));
    } finally {
      await database.close();
    }
  },
};

/** The events as an aligned text table, one row each. */
function eventTable(events: readonly StoredEvent[]): string {
  const header = [
    'VERSION',
    'TYPE',
    'SCHEMA',
    'ID',
    'POSITION',
    'OCCURRED',
    'RECORDED',
    'USER',
    'DATA',
  ];
  const rows = events.map((event) => [
    String(event.version),
    event.type,
    String(event.schemaVersion),
    event.id,
    String(event.position),
    event.occurredAt,
    event.recordedAt,
    typeof event.metadata.userId === 'string' ? event.metadata.userId : '-',
    cut(JSON.stringify(event.data) ?? 'null', DATA_WIDTH),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) =>
          column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0),
        )
        .join('  '),
    )
    .join('\n');
}

function cut(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
