// The periodic re-check of an open subscription's access (scope rules, or `rules.tenant` for
// the whole tenant): the rules are the host's code and may answer slowly, never, or by
// throwing, and none of that may keep a stream whose client has gone.
import type { BoundedSseWriter } from './bounded-sse-writer.ts';

/**
 * What a re-check found: still `granted`, `refused`, `failed` (the rule threw, or missed its
 * deadline: the stream ends as for a refusal, and the error is reported), or the writer `ended`
 * first (the client left while the rule was thinking: nothing more to do).
 */
export type AccessRecheck =
  | { readonly outcome: 'granted' | 'refused' | 'ended' }
  | { readonly outcome: 'failed'; readonly error: unknown };

/**
 * Runs `stillGranted` against the writer's end, whichever comes first.
 *
 * @example
 * const check = await recheckAccess(writer, () => rulesStillGrant(principal));
 * if (check.outcome !== 'granted') writer.close(closingMessage);
 */
export function recheckAccess(
  writer: BoundedSseWriter,
  stillGranted: () => Promise<boolean>,
): Promise<AccessRecheck> {
  return new Promise((resolve) => {
    let settled = false;
    let stopListening: (() => void) | undefined;
    const settle = (check: AccessRecheck) => {
      if (settled) return;
      settled = true;
      stopListening?.();
      resolve(check);
    };
    stopListening = writer.onEnded(() => settle({ outcome: 'ended' }));
    if (settled) return;
    // A rule that throws before its first await is a failure like any other.
    Promise.resolve()
      .then(stillGranted)
      .then(
        (granted) => settle({ outcome: granted ? 'granted' : 'refused' }),
        (error: unknown) => settle({ outcome: 'failed', error }),
      );
  });
}
