import type { Admin } from 'kafkajs';

/** Deletes a test run's topics and consumer groups (everything named under its prefix); failures are left to the broker's retention. */
export async function deleteKafkaPrefix(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
}
