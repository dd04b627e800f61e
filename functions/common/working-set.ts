import type { Subtask, SubtaskPatch } from '../../shared/domain/workflow.js';
import { terminalSubtaskStatuses } from '../../shared/domain/vocabulary.js';
import type { VersionedPatch } from '../../shared/ports/index.js';

/**
 * A workflow's subtasks as one handler sees them: patches apply to a working copy (so later rules
 * see earlier decisions) and are collected with the version each row was read at.
 */
export class WorkingSet {
  private readonly current = new Map<string, Subtask>();
  private readonly readVersion = new Map<string, number>();
  private readonly patches = new Map<string, SubtaskPatch>();

  constructor(subtasks: readonly Subtask[]) {
    for (const subtask of subtasks) {
      this.current.set(subtask.id, { ...subtask });
      this.readVersion.set(subtask.id, subtask.version);
    }
  }

  get(id: string): Subtask | undefined {
    return this.current.get(id);
  }

  all(): Subtask[] {
    return [...this.current.values()];
  }

  set(id: string, patch: SubtaskPatch): Subtask {
    const subtask = this.current.get(id);
    if (!subtask) throw new Error(`subtask ${id} is not in the working set`);
    Object.assign(subtask, patch);
    this.patches.set(id, { ...this.patches.get(id), ...patch });
    return subtask;
  }

  /**
   * Every unfinished subtask becomes cancelled. Returns what they held, as read before cancelling:
   * an in-progress one holds a lease and its agent slot, an assigned-but-undispatched one a slot.
   */
  cancelOpen(reason: string): Subtask[] {
    const held: Subtask[] = [];
    for (const subtask of this.all()) {
      if (terminalSubtaskStatuses.includes(subtask.status)) continue;
      if (subtask.assignedAgent !== null) held.push({ ...subtask });
      this.set(subtask.id, { status: 'cancelled', lastError: reason });
    }
    return held;
  }

  updates(): VersionedPatch<SubtaskPatch>[] {
    return [...this.patches].map(([id, patch]) => ({ id, expectedVersion: this.readVersion.get(id) ?? 0, patch }));
  }
}
