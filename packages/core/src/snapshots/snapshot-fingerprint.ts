import { type $ZodType, toJSONSchema } from 'zod/v4/core';

/**
 * A short, stable hash of a snapshot schema's shape, the aggregate type and an optional
 * revision. Changing the state's schema changes the fingerprint, so snapshots written for the
 * old shape are ignored instead of being decoded into the wrong one. Bump `revision` when
 * `evolve` changes meaning but the schema does not.
 *
 * @example
 * snapshotFingerprint('Todo', z.object({ title: z.string() }));        // '9f1c…' (16 hex chars)
 * snapshotFingerprint('Todo', z.object({ title: z.string() }), 'r2');  // a different one
 */
export function snapshotFingerprint(
  aggregateType: string,
  schema: $ZodType,
  revision = '',
): string {
  const shape = toJSONSchema(schema, { unrepresentable: 'any', io: 'output' });
  return hash64(stableStringify([aggregateType, revision, sortRequiredKeys(shape)]));
}

/** `required` lists a set of keys: declaration order must not change the fingerprint. */
function sortRequiredKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortRequiredKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      key === 'required' && Array.isArray(item) ? [...item].sort() : sortRequiredKeys(item),
    ]),
  );
}

/** JSON with object keys sorted, so equal shapes give equal strings. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableStringify(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Two independent 32-bit FNV-1a lanes: synchronous, so it runs the same in every runtime. */
function hash64(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
