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

/** A readable label for messages and map keys: `Todo/todo-1`. */
export function streamKey(stream: StreamRef): string {
  return `${stream.aggregateType}/${stream.aggregateId}`;
}
