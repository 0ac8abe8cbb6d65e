/**
 * Names one aggregate's stream of events. Ids are unique per aggregate type, so both parts
 * together identify the stream.
 *
 * @example
 * const ref: StreamRef = { aggregateType: 'Todo', aggregateId: 'todo-1' };
 */
export interface StreamRef {
  readonly aggregateType: string;
  readonly aggregateId: string;
}

/**
 * A map key for a stream. Unambiguous: `Todo` + `list/1` and `Todo/list` + `1` differ.
 */
export function streamKey(stream: StreamRef): string {
  return JSON.stringify([stream.aggregateType, stream.aggregateId]);
}

/** Whether two references name the same stream. */
export function sameStream(a: StreamRef, b: StreamRef): boolean {
  return a.aggregateType === b.aggregateType && a.aggregateId === b.aggregateId;
}

/** A readable label for messages: `Todo/todo-1`. */
export function streamLabel(stream: StreamRef): string {
  return `${stream.aggregateType}/${stream.aggregateId}`;
}
