// A team's task: the sample domain's aggregate for scoped sync. A task belongs to one project
// and is assigned to one user; both can change, so an event can move a task from one scope to
// another (reassigned: it leaves `assignedTo(ann)` and joins `assignedTo(bob)`).
import { DomainRuleViolatedError, defineAggregate, defineEvent } from '@strata/core';
import { z } from 'zod';

const Title = z.string().trim().min(1).max(200);
const Id = z.string().min(1).max(100);

/** A task was created in a project, assigned to a user. */
export const TaskCreated = defineEvent(
  'TaskCreated',
  z.object({ projectId: Id, title: Title, assignee: Id }),
);
/** A task's title changed. */
export const TaskRenamed = defineEvent('TaskRenamed', z.object({ title: Title }));
/** A task went to another user. */
export const TaskReassigned = defineEvent('TaskReassigned', z.object({ assignee: Id }));
/** A task moved to another project. */
export const TaskMoved = defineEvent('TaskMoved', z.object({ projectId: Id }));

export interface TaskState {
  readonly projectId: string | undefined;
  readonly title: string;
  readonly assignee: string | undefined;
}

export const Task = defineAggregate({
  type: 'Task',
  events: [TaskCreated, TaskRenamed, TaskReassigned, TaskMoved],
  initialState: (): TaskState => ({ projectId: undefined, title: '', assignee: undefined }),
  evolve: (state, event): TaskState => {
    switch (event.type) {
      case 'TaskCreated':
        return { ...event.data };
      case 'TaskRenamed':
        return { ...state, title: event.data.title };
      case 'TaskReassigned':
        return { ...state, assignee: event.data.assignee };
      case 'TaskMoved':
        return { ...state, projectId: event.data.projectId };
    }
  },
}).withCommands((command) => {
  const mustExist = (state: TaskState) => {
    if (state.projectId === undefined) {
      throw new DomainRuleViolatedError('TASK_NOT_FOUND', 'There is no such task');
    }
  };
  return {
    create: command(z.object({ projectId: Id, title: Title, assignee: Id }), (state, input) => {
      if (state.projectId !== undefined) {
        throw new DomainRuleViolatedError('TASK_EXISTS', 'This task exists already');
      }
      return [{ type: 'TaskCreated', data: input }];
    }),
    rename: command(z.object({ title: Title }), (state, { title }) => {
      mustExist(state);
      return title === state.title ? [] : [{ type: 'TaskRenamed', data: { title } }];
    }),
    reassign: command(z.object({ assignee: Id }), (state, { assignee }) => {
      mustExist(state);
      return assignee === state.assignee ? [] : [{ type: 'TaskReassigned', data: { assignee } }];
    }),
    move: command(z.object({ projectId: Id }), (state, { projectId }) => {
      mustExist(state);
      return projectId === state.projectId ? [] : [{ type: 'TaskMoved', data: { projectId } }];
    }),
  };
});
