/** Which (recipient, message id) pairs were already accepted: a redelivered record is delivered once. Bounded, oldest forgotten first. */
export function createSeenIds(limit = 100_000) {
  const seen = new Set<string>();
  return {
    /** True the first time only. */
    firstTime(recipient: string, messageId: string): boolean {
      const key = `${recipient}\u0000${messageId}`;
      if (seen.has(key)) return false;
      seen.add(key);
      if (seen.size > limit) seen.delete(seen.values().next().value!);
      return true;
    },
  };
}
