/** The lease that fences a subtask's current attempt. */
export const leaseKeyOf = (subtaskId: string): string => `subtask:${subtaskId}`;
/** The agent slot one attempt of a subtask takes (reserve and release are idempotent per key). */
export const workKeyOf = (subtaskId: string, attempt: number): string => `${subtaskId}#${attempt}`;

export const subtaskOfLeaseKey = (key: string): string => key.replace(/^subtask:/, '');
export function parseWorkKey(workKey: string): { subtaskId: string; attempt: number } {
  const at = workKey.lastIndexOf('#');
  return { subtaskId: workKey.slice(0, at), attempt: Number(workKey.slice(at + 1)) };
}

/** A lease outlives three missed heartbeats before the recovery loop takes the work back. */
export const leaseTtlMs = (heartbeatIntervalSeconds: number): number => Math.round(heartbeatIntervalSeconds * 3000);
