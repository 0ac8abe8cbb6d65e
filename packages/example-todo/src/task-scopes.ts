// Where tasks replicate: a project's members hold `project(projectId)`, a user holds
// `assignedTo(userId)` for their own tasks. Shared by browser and server; who may hold which
// scope is the server's rule.
import { defineScope, type ScopeRef, scopeMembership } from '@strata/core';
import { z } from 'zod';
import { Task } from './task.ts';

/** Every task of one project. */
export const project = defineScope('project', z.object({ projectId: z.string().min(1) }));
/** Every task assigned to one user. */
export const assignedTo = defineScope('assignedTo', z.object({ userId: z.string().min(1) }));

const replacing = (scopes: readonly ScopeRef[], next: ScopeRef) => [
  ...scopes.filter((scope) => scope.name !== next.name),
  next,
];

/** A task is in its project's scope and its assignee's; moving or reassigning it moves it. */
export const taskScopes = scopeMembership(Task, (scopes, event) => {
  switch (event.type) {
    case 'TaskCreated':
      return [
        project({ projectId: event.data.projectId }),
        assignedTo({ userId: event.data.assignee }),
      ];
    case 'TaskReassigned':
      return replacing(scopes, assignedTo({ userId: event.data.assignee }));
    case 'TaskMoved':
      return replacing(scopes, project({ projectId: event.data.projectId }));
    default:
      return scopes;
  }
});
