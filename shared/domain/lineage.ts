/** The reference of the output one attempt of a subtask produced (a lineage Output node's id). */
export const outputIdOf = (subtaskId: string, attempt: number): string => `${subtaskId}#${attempt}`;
