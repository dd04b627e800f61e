import { describe, expect, it } from 'vitest';
import {
  ConcurrencyConflictError,
  ConfigError,
  DependencyUnavailableError,
  InvalidEventError,
  NotFoundError,
  PlanningError,
  type OrchestrationError,
  describeError,
  errorCodes,
} from '../../shared/errors.js';
import { noUsage } from '../../shared/domain/usage.js';
import type { Workflow } from '../../shared/domain/workflow.js';
import { DecompositionTimeoutError } from '../../functions/decompose/plan-within.js';
import { InvalidTransitionError } from '../../functions/control/handler.js';
import { LeaseHeldError } from '../../functions/dispatch/handler.js';
import { LogFormatError } from '../../shared/engine/replay.js';
import { MessageTimeoutError } from '../../shared/messaging/request-response.js';
import { UsageError } from '../../shared/cli/io.js';
import { ApiError, UnreachableError } from '../../shared/cli/http-client.js';
import { LanguageModelError } from '../../shared/adapters/llm/language-model.openai.js';
import { AgentTaskError } from '../../shared/agent-sdk/agent-task-error.js';

const everyErrorClass: OrchestrationError[] = [
  new InvalidEventError('bad'),
  new ConcurrencyConflictError('raced'),
  new DependencyUnavailableError('postgres'),
  new NotFoundError('workflow wf_1'),
  new ConfigError('bad setting'),
  new PlanningError('no plan', noUsage()),
  new DecompositionTimeoutError(1),
  new InvalidTransitionError('resume', { status: 'running' } as Workflow),
  new LeaseHeldError('wf_1.s1'),
  new LogFormatError('bad line'),
  new MessageTimeoutError('no reply'),
  new UsageError('bad flag'),
  new ApiError(503, { error: 'dependency_unavailable' }, null),
  new UnreachableError('http://127.0.0.1:1', new Error('refused')),
  new LanguageModelError('RATE_LIMITED', 'slow down'),
  new AgentTaskError('LLM_EMPTY_ANSWER', 'empty'),
];

describe('error codes', () => {
  it('are listed once each', () => {
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
  });

  it('describe every error class, and unclassified failures, with a listed code', () => {
    const listed: readonly string[] = errorCodes;
    for (const error of [...everyErrorClass, new Error('driver'), 'thrown text']) {
      expect(listed, String(error)).toContain(describeError(error).code);
    }
  });
});
