import { defineScope, ForbiddenError, scopeKey, ValidationFailedError } from '@strata/core';
import { assignedTo, project, taskScopes } from '@strata/example-todo';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Principal } from '../app/auth.ts';
import { assertHolds, type ScopesOptions, scopeAccess } from './scope-rules.ts';

const ann: Principal = { tenant: 'acme', subject: 'ann', claims: { projects: ['p1'] } };
const admin: Principal = { tenant: 'acme', subject: 'root', claims: { admin: true } };

const options = {
  definitions: [project, assignedTo],
  membership: [taskScopes],
  rules: {
    project: (principal, { projectId }) =>
      ((principal.claims?.projects as string[] | undefined) ?? []).includes(projectId),
    assignedTo: async (principal, { userId }) => principal.subject === userId,
    tenant: (principal) => principal.claims?.admin === true,
  },
} satisfies ScopesOptions<typeof project | typeof assignedTo>;

const path = (index: number) => ['scopes', index, 'scope'];
const access = scopeAccess(options);

describe('scopeAccess', () => {
  it('resolves declared scopes and tenant by their canonical keys', () => {
    const keys = [project({ projectId: 'p1' }).key, assignedTo({ userId: 'ann' }).key, 'tenant'];
    expect(access.resolve(keys, path).map((scope) => scope.key)).toEqual(keys);
    expect(access.resolve(keys, path)[0]?.params).toEqual({ projectId: 'p1' });
  });

  it.each([
    ['an unknown name', scopeKey('team', { teamId: 't' })],
    ['parameters its schema refuses', scopeKey('project', { projectId: '' })],
    ['a missing parameter', 'project'],
    ['an extra parameter the schema strips', scopeKey('project', { projectId: 'p1', x: 1 })],
    ['parameters out of canonical order', 'project:{"projectId":"p1" }'],
    ['tenant with parameters', scopeKey('tenant', { all: true })],
    ['not a key at all', 'project:[1]'],
  ])('refuses %s with VALIDATION_FAILED naming its place', (_label, key) => {
    const resolve = () => access.resolve([project({ projectId: 'p1' }).key, key], path);
    expect(resolve).toThrow(ValidationFailedError);
    try {
      resolve();
    } catch (error) {
      expect((error as ValidationFailedError).issues[0]?.path).toEqual(['scopes', 1, 'scope']);
    }
  });

  it('names every refused scope and only those', async () => {
    const scopes = access.resolve(
      [
        project({ projectId: 'p1' }).key,
        project({ projectId: 'p2' }).key,
        assignedTo({ userId: 'bob' }).key,
        'tenant',
      ],
      path,
    );
    expect(await access.refused(ann, scopes)).toEqual([
      project({ projectId: 'p2' }).key,
      assignedTo({ userId: 'bob' }).key,
      'tenant',
    ]);
    await expect(assertHolds(access, ann, scopes)).rejects.toMatchObject({
      code: 'FORBIDDEN',
      scopes: [project({ projectId: 'p2' }).key, assignedTo({ userId: 'bob' }).key, 'tenant'],
    });
    await expect(assertHolds(access, admin, access.resolve(['tenant'], path))).resolves.toBe(
      undefined,
    );
  });

  it('grants tenant only by its rule once scopes are declared, and to all without them', async () => {
    const { tenant: _granted, ...withoutTenant } = options.rules;
    const noTenantRule = scopeAccess({ ...options, rules: withoutTenant });
    expect(await noTenantRule.refused(admin, noTenantRule.resolve(['tenant'], path))).toEqual([
      'tenant',
    ]);
    const unscoped = scopeAccess(undefined);
    expect(unscoped.configured).toBe(false);
    expect(await unscoped.refused(ann, unscoped.resolve(['tenant'], path))).toEqual([]);
    expect(() => unscoped.resolve([project({ projectId: 'p1' }).key], path)).toThrow(
      ValidationFailedError,
    );
  });

  it('holdsAny: a key that names no declared scope (left over in stored rows) grants nothing', async () => {
    expect(await access.holdsAny(ann, ['gone:{"x":1}', project({ projectId: 'p1' }).key])).toBe(
      true,
    );
    expect(await access.holdsAny(ann, ['gone:{"x":1}', project({ projectId: 'p9' }).key])).toBe(
      false,
    );
    expect(await access.holdsAny(ann, [])).toBe(false);
  });

  it('a rule that answers anything but true refuses', async () => {
    const sloppy = scopeAccess({
      ...options,
      rules: { ...options.rules, project: () => 'yes' as unknown as boolean },
    });
    expect(await sloppy.holdsAny(ann, [project({ projectId: 'p1' }).key])).toBe(false);
  });

  it('refuses a malformed option at once', () => {
    const team = defineScope('team', z.object({ teamId: z.string() }));
    expect(() => scopeAccess({ ...options, definitions: [project, project] })).toThrow(/twice/);
    expect(() =>
      scopeAccess({ ...options, definitions: [project, team] } as unknown as ScopesOptions),
    ).toThrow(/rules\.team/);
    const tenantNamed = defineScope('tenant', z.object({}));
    expect(() =>
      scopeAccess({ ...options, definitions: [tenantNamed] } as unknown as ScopesOptions),
    ).toThrow(/built in/);
    expect(() => scopeAccess({ ...options, membership: [taskScopes, taskScopes] })).toThrow(
      /two memberships/,
    );
  });

  it('types each rule by its scope’s parameters', () => {
    const typed: ScopesOptions<typeof project> = {
      definitions: [project],
      membership: [],
      // @ts-expect-error a project rule reads projectId, not userId
      rules: { project: (_principal, { userId }: { userId: string }) => userId === 'x' },
    };
    expect(typed.definitions).toHaveLength(1);
    expect(new ForbiddenError().code).toBe('FORBIDDEN');
  });

  it('fails a rule that does not answer within ruleTimeoutMs with UNAVAILABLE (503), a throw as a throw', async () => {
    const hanging = scopeAccess({
      ...options,
      rules: {
        ...options.rules,
        project: () => new Promise<boolean>(() => undefined),
        assignedTo: () => {
          throw new Error('rule backend down');
        },
      },
      ruleTimeoutMs: 20,
    });
    const [p1] = hanging.resolve([project({ projectId: 'p1' }).key], path);
    const [own] = hanging.resolve([assignedTo({ userId: 'ann' }).key], path);
    await expect(hanging.refused(ann, p1 ? [p1] : [])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await expect(hanging.holdsAny(ann, [project({ projectId: 'p1' }).key])).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
    await expect(hanging.refused(ann, own ? [own] : [])).rejects.toThrow('rule backend down');
    // A quick answer is unaffected by the deadline.
    expect(await hanging.holdsAny(admin, ['tenant'])).toBe(true);
  });

  it('places anywhere without a placement rule; a placement rule decides, within the deadline', async () => {
    const [p1] = scopeAccess(options).resolve([project({ projectId: 'p1' }).key], path);
    if (p1 === undefined) throw new Error('p1 resolves');
    expect(await scopeAccess(options).mayPlace(ann, p1)).toBe(true);
    const members = scopeAccess({
      ...options,
      placement: {
        project: (principal, { projectId }) => principal.subject === `${projectId}-member`,
      },
    });
    expect(await members.mayPlace(ann, p1)).toBe(false);
    expect(await members.mayPlace({ tenant: 'acme', subject: 'p1-member' }, p1)).toBe(true);
    const hanging = scopeAccess({
      ...options,
      placement: { project: () => new Promise<boolean>(() => undefined) },
      ruleTimeoutMs: 20,
    });
    await expect(hanging.mayPlace(ann, p1)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('refuses a ruleTimeoutMs that is no positive number of ms', () => {
    for (const ruleTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => scopeAccess({ ...options, ruleTimeoutMs })).toThrow(TypeError);
    }
  });
});
