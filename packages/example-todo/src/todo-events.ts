import { defineEvent } from '@strata/core';
import { z } from 'zod';

/** A todo's title: trimmed, never empty. */
export const TodoTitle = z.string().trim().min(1, 'A todo needs a title').max(500);

/**
 * A todo was added. Schema version 1 called the title `text`; the upcaster renames it, so events
 * written by old clients still load.
 */
export const TodoAdded = defineEvent('TodoAdded', z.object({ text: z.string() })).nextVersion(
  z.object({ title: z.string() }),
  (v1) => ({ title: v1.text }),
);

/** A todo got a new title. */
export const TodoRenamed = defineEvent('TodoRenamed', z.object({ title: z.string() }));

/** A todo was marked done. */
export const TodoCompleted = defineEvent('TodoCompleted', z.object({}));

/** A done todo was marked not done again. */
export const TodoReopened = defineEvent('TodoReopened', z.object({}));

/** A todo was removed; it accepts no further commands. */
export const TodoRemoved = defineEvent('TodoRemoved', z.object({}));
