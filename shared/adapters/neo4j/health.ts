import type { Driver } from 'neo4j-driver';
import type { HealthCheck } from '../resilient.js';

/**
 * Readiness of the agent directory's Neo4j: the driver reaches the server and completes a
 * handshake within `timeoutMs`. No circuit breaker sits in front of the directory, hence
 * `circuit: 'disabled'`.
 */
export function neo4jHealthCheck(driver: Driver, timeoutMs = 1_000): HealthCheck {
  return {
    async health() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      });
      try {
        await Promise.race([driver.verifyConnectivity(), late]);
        return { dependency: 'neo4j', ok: true, circuit: 'disabled' };
      } catch (error) {
        return { dependency: 'neo4j', ok: false, circuit: 'disabled', error: error instanceof Error ? error.message : String(error) };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
