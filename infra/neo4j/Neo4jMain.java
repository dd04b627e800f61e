// The local Neo4j server: an embedded DBMS with the Bolt connector on, auth off, sized for a
// shared 2-core box. Run in source-file mode by infra/neo4j/start.sh:
//   java -Xmx1g <flags> -cp "infra/neo4j/lib/*" infra/neo4j/Neo4jMain.java DATA_DIR
// Env: NEO4J_HOST (127.0.0.1), NEO4J_PORT (7687), NEO4J_PAGECACHE (64m).
// Prints "Neo4j ready on bolt://HOST:PORT" once Bolt accepts sessions; stops cleanly on TERM.

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.io.ByteUnit;

public class Neo4jMain {
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Neo4jMain DATA_DIR");
      System.exit(2);
    }
    Path home = Path.of(args[0]).toAbsolutePath();
    String host = env("NEO4J_HOST", "127.0.0.1");
    int port = Integer.parseInt(env("NEO4J_PORT", "7687"));
    long pageCache = ByteUnit.parse(env("NEO4J_PAGECACHE", "64m"));

    long started = System.nanoTime();
    DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
        .setConfig(BoltConnector.enabled, true)
        .setConfig(BoltConnector.listen_address, new SocketAddress(host, port))
        .setConfig(BoltConnector.advertised_address, new SocketAddress(host, port))
        .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
        .setConfig(GraphDatabaseSettings.auth_enabled, false)
        .setConfig(GraphDatabaseSettings.udc_enabled, false)
        .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
        // Test data only: keep little transaction log and do not preallocate 250 MB files.
        .setConfig(GraphDatabaseSettings.keep_logical_logs, "1 files")
        .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(16))
        .setConfig(GraphDatabaseSettings.preallocate_logical_logs, false)
        .setConfig(GraphDatabaseSettings.memory_transaction_global_max_size, ByteUnit.mebiBytes(256))
        .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(2))
        .build();

    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("Neo4j stopping");
      dbms.shutdown();
      System.out.println("Neo4j stopped");
      stopped.countDown();
    }, "neo4j-shutdown"));

    // build() returns once the system and default databases are started and Bolt is bound.
    dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME).executeTransactionally("RETURN 1");
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("Neo4j ready on bolt://%s:%d (%d ms, home %s)%n", host, port, ms, home);
    System.out.flush();
    stopped.await();
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isBlank() ? fallback : value;
  }
}
