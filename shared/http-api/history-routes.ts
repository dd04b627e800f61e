import { Router, type Response } from 'express';
import { subtaskParamsSchema, type AttemptsResponse } from '../api/attempts.js';
import { workflowIdParamSchema } from '../api/requests.js';
import type { Workflow } from '../domain/workflow.js';
import { NotFoundError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { principalOf } from './auth/middleware.js';
import { canSee } from './auth/scope.js';
import { lineageView } from './lineage-view.js';

/** A workflow's history: every attempt of its subtasks, and its lineage. Another tenant's workflow is a 404. */
export function createHistoryRoutes(runtime: Runtime): Router {
  const { store, directory } = runtime.ports;
  const router = Router();

  const visible = async (id: string, res: Response): Promise<Workflow> => {
    const workflow = await store.getWorkflow(id);
    if (!workflow || !canSee(principalOf(res), workflow)) throw new NotFoundError(`workflow ${id}`);
    return workflow;
  };

  router.get('/v1/workflows/:id/attempts', async (req, res) => {
    const { id } = workflowIdParamSchema.parse(req.params);
    await visible(id, res);
    res.json({ workflowId: id, attempts: await store.getAttempts(id) } satisfies AttemptsResponse);
  });

  router.get('/v1/workflows/:id/subtasks/:subtaskId/attempts', async (req, res) => {
    const { id, subtaskId } = subtaskParamsSchema.parse(req.params);
    await visible(id, res);
    const subtask = await store.getSubtask(subtaskId);
    if (!subtask || subtask.workflowId !== id) throw new NotFoundError(`subtask ${subtaskId} of workflow ${id}`);
    const attempts = (await store.getAttempts(id)).filter((a) => a.subtaskId === subtaskId);
    res.json({ workflowId: id, subtaskId, attempts } satisfies AttemptsResponse);
  });

  router.get('/v1/workflows/:id/lineage', async (req, res) => {
    const { id } = workflowIdParamSchema.parse(req.params);
    const workflow = await visible(id, res);
    const [subtasks, graph] = await Promise.all([store.getSubtasks(id), directory.lineageOf?.(id) ?? null]);
    res.json(lineageView(workflow, subtasks, graph, graph ? [] : await store.getAttempts(id)));
  });

  return router;
}
