/**
 * The SDK's experimental task store, backed by the job ledger (tools/job-tasks.ts) for one principal:
 * the SDK's tasks/get, tasks/result, tasks/list and tasks/cancel handlers read and act through it, so a
 * task is visible to its owner only, wherever and whenever (after a restart, on another replica) it is asked.
 */
import type { TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks/interfaces.js';
import { McpError, ErrorCode, type Result, type Task } from '@modelcontextprotocol/sdk/types.js';
import type { CallContext } from './tools/handler.js';
import type { JobTasks } from './tools/job-tasks.js';

/** A status or result request is not the create: it never needs longer than a provider poll. */
function context(principal: string, callerId: string): CallContext {
  return { signal: AbortSignal.timeout(60_000), principal, callerId };
}

export function ledgerTaskStore(tasks: JobTasks, principal: string, fallbackCaller: string): TaskStore {
  const ctx = (sessionId?: string): CallContext => context(principal, sessionId ?? fallbackCaller);
  return {
    createTask: () =>
      Promise.reject(new McpError(ErrorCode.InvalidRequest, 'Tasks are created by a task-augmented tools/call.')),
    getTask: async (taskId, sessionId) => (await tasks.get(taskId, ctx(sessionId))) as Task | null,
    storeTaskResult: () => Promise.resolve(),
    getTaskResult: async (taskId, sessionId) => (await tasks.result(taskId, ctx(sessionId))) as Result,
    updateTaskStatus: async (taskId, status, _message, sessionId) => {
      if (status === 'cancelled') await tasks.cancel(taskId, ctx(sessionId));
    },
    listTasks: async (cursor, sessionId) => {
      const page = await tasks.list(cursor, ctx(sessionId));
      return { tasks: page.tasks as Task[], ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
    },
  };
}
