import neo4j, { type Driver } from 'neo4j-driver';

/** A driver for NEO4J_URL. Credentials may ride in the URL (neo4j://user:password@host:7687); the driver wants them apart. */
export function createNeo4jDriver(url: string): Driver {
  const parsed = new URL(url);
  if (!parsed.username) return neo4j.driver(url);
  const auth = neo4j.auth.basic(decodeURIComponent(parsed.username), decodeURIComponent(parsed.password));
  parsed.username = '';
  parsed.password = '';
  return neo4j.driver(parsed.toString(), auth);
}
