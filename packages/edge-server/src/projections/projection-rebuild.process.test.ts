import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { spawnProcess } from '../../test/fixtures/node/spawn-server.ts';
import { todoListRows } from '../../test/fixtures/projections/todo-list-projection.ts';
import { writeTodosConcurrently } from '../../test/fixtures/projections/todo-writers.ts';
import { migrate } from '../migrations/migrations.ts';
import { pgliteDatabase } from '../postgres/pglite-database.ts';

describe('rebuild command (main.ts rebuild)', () => {
  it('rebuilds the named projection on the PGlite folder, printing progress', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'strata-rebuild-'));
    try {
      const folder = await PGlite.create(dataDir);
      const database = pgliteDatabase(folder);
      await migrate(database);
      const appended = await writeTodosConcurrently(database, {
        writers: 2,
        todosPerWriter: 5,
        eventsPerTodo: 3,
        tenants: ['cli'],
      });
      await folder.close();

      const packageDir = fileURLToPath(new URL('../..', import.meta.url));
      const modulePath = fileURLToPath(
        new URL('../../test/fixtures/projections/todo-list-projection.ts', import.meta.url),
      );
      const rebuild = spawnProcess(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/node/main.ts',
          'rebuild',
          'todo-list',
          '--projections',
          modulePath,
          '--data-dir',
          dataDir,
        ],
        { cwd: packageDir },
      );
      expect(await rebuild.exited, rebuild.output()).toBe(0);
      expect(rebuild.output()).toContain(`[strata] todo-list: 0/${appended} events (0%)`);
      expect(rebuild.output()).toContain(
        `[strata] todo-list: ${appended}/${appended} events (100%)`,
      );
      expect(rebuild.output()).toMatch(
        new RegExp(`\\[strata\\] rebuilt todo-list: ${appended} events in [0-9.]+ s`),
      );

      const reopened = await PGlite.create(dataDir);
      const rows = await todoListRows(pgliteDatabase(reopened));
      await reopened.close();
      expect(rows).toHaveLength(10);

      const unknown = spawnProcess(
        process.execPath,
        [
          '--import',
          'tsx',
          'src/node/main.ts',
          'rebuild',
          'nope',
          '--projections',
          modulePath,
          '--data-dir',
          dataDir,
        ],
        { cwd: packageDir },
      );
      expect(await unknown.exited).toBe(1);
      expect(unknown.output()).toContain('No projection named nope (the module has todo-list)');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
