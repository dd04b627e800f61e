import { Kafka, logLevel } from 'kafkajs';

/**
 * Resolves once the broker names a group coordinator (so __consumer_offsets exists and is led):
 * on a broker that has just started, consumer groups would otherwise join while it is still
 * creating that topic, and each join retries (and may crash) on its own schedule.
 */
export async function kafkaCoordinatorAnswers(brokers: string[], probeGroup: string, timeoutMs = 55_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const admin = new Kafka({
    clientId: `${probeGroup}-admin`,
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 },
  }).admin();
  let last: unknown = null;
  try {
    await admin.connect();
    for (;;) {
      try {
        await admin.describeGroups([probeGroup]);
        return;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) throw new Error(`no Kafka group coordinator after ${timeoutMs / 1000} s: ${String(last)}`);
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
