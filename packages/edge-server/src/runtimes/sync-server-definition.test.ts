import { Todo } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { singleTenant } from '../app/auth.ts';
import { serverSettingsFor } from './server-settings.ts';
import {
  defineSyncServer,
  definitionOfModule,
  isSyncServerDefinition,
} from './sync-server-definition.ts';

describe('defineSyncServer', () => {
  it('returns the definition frozen and marked, recognised in a module by default or `app` export', () => {
    const app = defineSyncServer({ aggregates: [Todo], authority: { Todo: 'events' } });
    expect(app.aggregates).toEqual([Todo]);
    expect(Object.isFrozen(app)).toBe(true);
    expect(isSyncServerDefinition(app)).toBe(true);
    expect(isSyncServerDefinition({ aggregates: [Todo] })).toBe(false);
    expect(definitionOfModule({ default: app }, 'app.ts')).toBe(app);
    expect(definitionOfModule({ app }, 'app.ts')).toBe(app);
  });

  it('refuses what is not a definition, naming the module', () => {
    expect(() => defineSyncServer({ aggregates: Todo as never })).toThrow(
      'aggregates must be an array',
    );
    expect(() => definitionOfModule({ default: { aggregates: [Todo] } }, 'worker.ts')).toThrow(
      'worker.ts exports no app definition: export default defineSyncServer',
    );
  });
});

describe('serverSettingsFor', () => {
  it('puts the definition over the environment, and authenticates from the environment unless it says how', async () => {
    const env = { CORS_ORIGINS: 'https://env.example', JWT_SECRET: 'a-secret' };
    const warnings: string[] = [];
    const fromEnv = serverSettingsFor(defineSyncServer({}), env, (line) => warnings.push(line));
    expect(fromEnv.corsOrigins).toEqual(['https://env.example']);
    // JWT_SECRET: a request without a token is refused.
    await expect(fromEnv.authenticate(new Request('http://x/v1/pull'))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(warnings).toEqual([]);

    const own = singleTenant('mine');
    const app = defineSyncServer({ corsOrigins: ['https://app.example'], authenticate: own });
    const settings = serverSettingsFor(app, env, (line) => warnings.push(line));
    expect(settings.corsOrigins).toEqual(['https://app.example']);
    expect(settings.authenticate).toBe(own);
  });
});
