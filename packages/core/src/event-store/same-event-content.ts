import { isForgotten } from '../crypto/forgotten.ts';
import type { NewEvent, StoredEvent } from '../events/event.ts';

/**
 * Metadata keys a server stamps on every pushed event from who is calling (issue 12, item 12):
 * they say who sent a copy, not what the event is, so a retry is compared without them.
 */
export const STAMPED_METADATA_KEYS: readonly string[] = ['clientId', 'userId'];

/**
 * JSON text with object keys sorted and `undefined` members left out: the same for two values
 * that `jsonb` stores alike (it reorders keys and keeps one form per number, as `JSON.parse`
 * does), so a value read back from Postgres compares equal to the one that was sent.
 *
 * @example
 * canonicalJson({ b: 1, a: [2, { d: null, c: 1.0 }] }); // '{"a":[2,{"c":1,"d":null}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, member]) => member !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(',')}}`;
}

/**
 * The first field in which `event` differs from the stored event with its id (type, schema
 * version, occurrence time, data, metadata apart from `STAMPED_METADATA_KEYS`), or undefined
 * when it is the same event: a retry. Times compare as instants to the millisecond (what
 * `timestamptz` read into a `Date` keeps). Data that was crypto-shredded cannot be compared and
 * is not.
 *
 * @example
 * if (differingField(stored, event) !== undefined) throw new DuplicateEventIdError(event.id);
 */
export function differingField(stored: StoredEvent, event: NewEvent): string | undefined {
  if (stored.type !== event.type) return 'type';
  if (stored.schemaVersion !== event.schemaVersion) return 'schemaVersion';
  if (Math.trunc(Date.parse(stored.occurredAt)) !== Math.trunc(Date.parse(event.occurredAt))) {
    return 'occurredAt';
  }
  if (!isForgotten(stored.data) && canonicalJson(stored.data) !== canonicalJson(event.data)) {
    return 'data';
  }
  const unstamped = (metadata: object) =>
    Object.fromEntries(
      Object.entries(metadata).filter(([key]) => !STAMPED_METADATA_KEYS.includes(key)),
    );
  if (canonicalJson(unstamped(stored.metadata)) !== canonicalJson(unstamped(event.metadata))) {
    return 'metadata';
  }
  return undefined;
}
