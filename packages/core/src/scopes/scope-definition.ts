// Scopes choose what a device replicates: a named set of aggregates with parameters
// (`project({ projectId })`). The definition (name and parameter schema) is shared by browser
// and server; which aggregates are in a scope comes from a membership fold over their events
// (scope-membership.ts); who may hold one is a server rule (edge-server `scopes.rules`).
import type { $ZodType } from 'zod/v4/core';
import { parseOrThrow } from '../errors/validation-issues.ts';
import { isScopeName, scopeKey } from './scope-key.ts';

/** One scope with its parameters: what a device asks for and an aggregate belongs to. */
export interface ScopeRef<
  TName extends string = string,
  TParams = Readonly<Record<string, unknown>>,
> {
  readonly name: TName;
  readonly params: TParams;
  /** The scope's canonical key (`scopeKey`): equal scopes have equal keys. */
  readonly key: string;
}

/** A declared scope: call it with parameters to name one of its sets. */
export interface ScopeDefinition<
  TName extends string = string,
  TParams extends Readonly<Record<string, unknown>> = Readonly<Record<string, unknown>>,
> {
  (params: TParams): ScopeRef<TName, TParams>;
  readonly scopeName: TName;
  readonly params: $ZodType<TParams>;
}

// biome-ignore lint/suspicious/noExplicitAny: any definition, whatever its parameters
export type AnyScopeDefinition = ScopeDefinition<string, any>;

/**
 * Declares a scope: a name and a zod schema (classic `zod` or `zod/mini`) of its parameters (an
 * object of JSON values). Calling the definition validates the parameters (`VALIDATION_FAILED`
 * when they do not match) and makes a `ScopeRef`.
 *
 * @example
 * const project = defineScope('project', z.object({ projectId: z.string() }));
 * startSync(strata, { ..., scopes: [project({ projectId: 'p1' })] });
 */
export function defineScope<
  TName extends string,
  TParams extends Readonly<Record<string, unknown>>,
>(name: TName, params: $ZodType<TParams>): ScopeDefinition<TName, TParams> {
  if (!isScopeName(name)) throw new TypeError(`"${name}" is not a scope name`);
  const make = (input: TParams): ScopeRef<TName, TParams> => {
    const parsed = parseOrThrow(params, input, `parameters of scope ${name}`);
    return { name, params: parsed, key: scopeKey(name, parsed) };
  };
  return Object.assign(make, { scopeName: name, params });
}

/** The name of the built-in scope that holds every aggregate of the tenant. */
export const TENANT_SCOPE_NAME = 'tenant';

/**
 * The whole tenant as one scope: every aggregate, in the tenant's order (what sync without
 * scopes replicates). A server that declares scopes grants it only by its own rule.
 *
 * @example
 * startSync(strata, { ..., scopes: [tenantScope] });
 */
export const tenantScope: ScopeRef<'tenant', Record<string, never>> = {
  name: TENANT_SCOPE_NAME,
  params: {},
  key: TENANT_SCOPE_NAME,
};
