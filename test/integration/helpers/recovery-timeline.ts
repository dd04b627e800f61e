import type { Delivery } from '../../../shared/ports/index.js';

interface Step {
  /** When the handler (or the recovery loop) made the event: its CloudEvents `time`. */
  made: number;
  /** When Kafka appended it: the record timestamp. */
  published: number;
}

export interface RecoveryTimeline {
  subtaskId: string;
  leaseExpiredAt: number;
  /** recovery loop → subtask.failed (lease_expired) → complete → subtask.ready → assign → subtask.assigned → dispatch → subtask.dispatched */
  steps: { failed: Step; ready: Step; assigned: Step; dispatched: Step };
  /** How many subtask.ready events the re-run took (more than one: it waited for a free slot and was woken again). */
  readyEvents: number;
  assignedTo: string;
}

type Event = { id: string; type: string; time: string; data: { subtaskId: string; attempt: number; cause?: string; reason?: string; agentId?: string } };

const first = (deliveries: Delivery[], match: (e: Event) => boolean): Step | null => {
  const found = deliveries.filter((d) => match(d.value as Event)).sort((a, b) => a.timestamp - b.timestamp)[0];
  return found ? { made: Date.parse((found.value as Event).time), published: found.timestamp } : null;
};

/**
 * Where the time between an agent's death and its work's re-dispatch went, from the events on the
 * topics: the lease's expiry (in the recovery event's reason), then each hop's event time and
 * Kafka timestamp. Null when an event of the chain is missing.
 */
export function recoveryTimeline(
  onTopic: (topic: string) => Delivery[],
  topicNames: { results: string; ready: string; assigned: string; dispatched: string },
  subtaskId: string,
  lostAttempt: number,
): RecoveryTimeline | null {
  const ofSubtask = (e: Event) => e.data?.subtaskId === subtaskId;
  const failed = first(
    onTopic(topicNames.results),
    (e) => ofSubtask(e) && e.type === 'subtask.failed' && e.data.cause === 'lease_expired' && e.data.attempt === lostAttempt,
  );
  const ready = first(onTopic(topicNames.ready), (e) => ofSubtask(e) && e.data.attempt === lostAttempt + 1);
  const assigned = first(onTopic(topicNames.assigned), (e) => ofSubtask(e) && e.data.attempt === lostAttempt + 1);
  const dispatched = first(onTopic(topicNames.dispatched), (e) => ofSubtask(e) && e.data.attempt === lostAttempt + 1);
  const failedEvent = onTopic(topicNames.results)
    .map((d) => d.value as Event)
    .find((e) => ofSubtask(e) && e.data.cause === 'lease_expired' && e.data.attempt === lostAttempt);
  const expiry = /lease expired at (\S+)/.exec(failedEvent?.data.reason ?? '')?.[1];
  if (!failed || !ready || !assigned || !dispatched || !expiry) return null;
  const readyEvents = new Set(
    onTopic(topicNames.ready)
      .map((d) => d.value as Event)
      .filter((e) => ofSubtask(e) && e.data.attempt === lostAttempt + 1)
      .map((e) => e.id),
  ).size;
  const assignedTo =
    onTopic(topicNames.assigned)
      .map((d) => d.value as Event)
      .find((e) => ofSubtask(e) && e.data.attempt === lostAttempt + 1)?.data.agentId ?? '?';
  return { subtaskId, leaseExpiredAt: Date.parse(expiry), steps: { failed, ready, assigned, dispatched }, readyEvents, assignedTo };
}

/** "lease expiry +0.01 s → recovery event +0.20 s (on Kafka +0.21 s) → …", relative to `from` (the kill). */
export function describeTimeline(t: RecoveryTimeline, from: number): string {
  const s = (ms: number) => `${ms >= from ? '+' : ''}${((ms - from) / 1000).toFixed(2)} s`;
  const step = (name: string, x: Step) => `${name} ${s(x.made)} (on Kafka ${s(x.published)})`;
  return [
    `kill 0 s`,
    `lease expiry ${s(t.leaseExpiredAt)}`,
    step('recovery subtask.failed', t.steps.failed),
    step('complete subtask.ready', t.steps.ready),
    `${step('assign subtask.assigned', t.steps.assigned)} to ${t.assignedTo} after ${t.readyEvents} subtask.ready event(s)`,
    step('dispatch subtask.dispatched', t.steps.dispatched),
  ].join(' → ');
}
