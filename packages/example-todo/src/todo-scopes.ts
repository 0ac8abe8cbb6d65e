// Where todos replicate: each user's todos are one scope, `todosOf(userId)`, held by that user
// only. The owner is the user the server stamped on the todo's first event (from the token),
// never a field a device could forge.
import { defineScope, scopeMembership } from '@strata/core';
import { z } from 'zod';
import { Todo } from './todo.ts';

/** Every todo one user added. */
export const todosOf = defineScope('todosOf', z.object({ userId: z.string().min(1) }));

/** A todo is in its owner's scope from its first event on; nothing moves it. */
export const todoScopes = scopeMembership(Todo, (scopes, event) =>
  event.type === 'TodoAdded' && typeof event.metadata.userId === 'string'
    ? [todosOf({ userId: event.metadata.userId })]
    : scopes,
);
