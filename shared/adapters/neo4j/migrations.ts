import type { Driver } from 'neo4j-driver';

/**
 * The agent graph's schema. Every node a namespace owns carries `ns`, so uniqueness is per
 * (ns, id): parallel test runs and tenants share one database without seeing each other.
 * Specialty nodes are the shared vocabulary and carry no namespace.
 */
const statements = [
  'CREATE CONSTRAINT agent_id IF NOT EXISTS FOR (a:Agent) REQUIRE (a.ns, a.id) IS UNIQUE',
  'CREATE CONSTRAINT specialty_name IF NOT EXISTS FOR (s:Specialty) REQUIRE s.name IS UNIQUE',
  'CREATE CONSTRAINT subtask_id IF NOT EXISTS FOR (s:Subtask) REQUIRE (s.ns, s.id) IS UNIQUE',
  'CREATE CONSTRAINT workflow_id IF NOT EXISTS FOR (w:Workflow) REQUIRE (w.ns, w.id) IS UNIQUE',
  'CREATE CONSTRAINT output_id IF NOT EXISTS FOR (o:Output) REQUIRE (o.ns, o.id) IS UNIQUE',
  'CREATE INDEX agent_layer IF NOT EXISTS FOR (a:Agent) ON (a.layer)',
  'CREATE INDEX agent_role IF NOT EXISTS FOR (a:Agent) ON (a.ns, a.role)',
  'CREATE INDEX agent_supervisor IF NOT EXISTS FOR (a:Agent) ON (a.ns, a.supervisorId)',
];

/** Two processes migrating at once can both pass IF NOT EXISTS; the loser's error is harmless. */
const alreadyThere = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /EquivalentSchemaRuleAlreadyExists|ConstraintAlreadyExists|IndexAlreadyExists/.test(code);
};

/** Creates the constraints and indexes if missing (idempotent) and waits until they are online. */
export async function migrateAgentGraph(driver: Driver, database?: string): Promise<void> {
  const session = driver.session(database ? { database } : {});
  try {
    for (const statement of statements) {
      try {
        await session.run(statement);
      } catch (error) {
        if (!alreadyThere(error)) throw error;
      }
    }
    await session.run('CALL db.awaitIndexes(60)');
  } finally {
    await session.close();
  }
}
