import * as z from 'zod/mini';
import type { JsonObject, JsonValue } from '../events/json.ts';
import { unsafeTextReason } from './safe-text.ts';

/** Keys that turn into prototype pollution once merged into ordinary objects. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 64;

/** Why `value` is not safe JSON, with the path to the offending part; undefined when it is. */
function findUnsafeJson(
  value: unknown,
  path: (string | number)[] = [],
): [string, (string | number)[]] | undefined {
  if (path.length > MAX_DEPTH) return [`nested deeper than ${MAX_DEPTH} levels`, path];
  if (value === null || typeof value === 'boolean') return undefined;
  if (typeof value === 'string') {
    const reason = unsafeTextReason(value);
    return reason === undefined ? undefined : [reason, path];
  }
  if (typeof value === 'number') {
    return Number.isFinite(value) ? undefined : ['numbers must be finite', path];
  }
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index++) {
      const problem = findUnsafeJson(value[index], [...path, index]);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) return [`the key "${key}" is not allowed`, [...path, key]];
      const keyReason = unsafeTextReason(key);
      if (keyReason !== undefined) return [`a key ${keyReason}`, [...path, key]];
      const problem = findUnsafeJson((value as Record<string, unknown>)[key], [...path, key]);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return ['not a JSON value', path];
}

/**
 * Any JSON value, as `JSON.parse` makes it, without `__proto__`, `constructor` or `prototype`
 * keys, at most 64 levels deep, and with strings and keys `jsonb` stores faithfully (no NUL,
 * no lone surrogates: `SafeTextSchema`).
 */
export const JsonValueSchema = z.unknown().check((ctx) => {
  const problem = findUnsafeJson(ctx.value);
  if (problem !== undefined) {
    ctx.issues.push({ code: 'custom', message: problem[0], path: problem[1], input: ctx.value });
  }
}) as unknown as z.ZodMiniType<JsonValue, unknown>;

/**
 * A JSON object, with the same safety rules as `JsonValueSchema`. The raw input is checked, so
 * a top-level `__proto__` is refused rather than silently dropped.
 */
export const JsonObjectSchema = z.unknown().check((ctx) => {
  const value = ctx.value;
  const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
  const problem = isObject ? findUnsafeJson(value) : (['must be a JSON object', []] as const);
  if (problem !== undefined) {
    ctx.issues.push({ code: 'custom', message: problem[0], path: [...problem[1]], input: value });
  }
}) as unknown as z.ZodMiniType<JsonObject, unknown>;
