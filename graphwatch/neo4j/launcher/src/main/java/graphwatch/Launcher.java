package graphwatch;

import java.nio.file.Path;
import java.util.Map;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.io.ByteUnit;

/**
 * Starts Neo4j Community on 127.0.0.1:PORT with its data under HOME and waits for SIGTERM.
 * Usage: Launcher HOME PORT PAGECACHE_MB [PLUGINS]. Auth is on when GRAPHWATCH_NEO4J_PASSWORD is
 * set (read from the environment so it never appears in a process listing), off otherwise.
 * PLUGINS is a folder of procedure jars (APOC core); APOC reads its own settings from Java
 * system properties (-Dapoc.export.file.enabled=true lets apoc.export write into HOME/import).
 * Transaction logs: only the newest one is kept after a checkpoint (Neo4j's default keeps two
 * days of them: a push of a 1 M-person county left 13 GB), in files of at most 64 MB.
 */
public final class Launcher {
    public static void main(String[] args) throws Exception {
        Path home = Path.of(args[0]);
        int port = Integer.parseInt(args[1]);
        long pageCacheMb = Long.parseLong(args[2]);
        String password = System.getenv("GRAPHWATCH_NEO4J_PASSWORD");
        boolean auth = password != null && !password.isEmpty();

        DatabaseManagementServiceBuilder builder = new DatabaseManagementServiceBuilder(home);
        if (args.length > 3) {
            builder.setConfig(GraphDatabaseSettings.plugin_dir, Path.of(args[3]).toAbsolutePath());
        }
        DatabaseManagementService dbms = builder
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(HttpConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.mebiBytes(pageCacheMb))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, "false")
                .setConfig(GraphDatabaseSettings.logical_log_rotation_threshold, ByteUnit.mebiBytes(64))
                .build();
        Runtime.getRuntime().addShutdownHook(new Thread(dbms::shutdown));
        if (auth) {
            try {
                dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME).executeTransactionally(
                        "ALTER USER neo4j SET PASSWORD $pw CHANGE NOT REQUIRED", Map.of("pw", password));
            } catch (QueryExecutionException e) {
                // a restart that keeps the password (graphwatch's bulk push): it is set already
                if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                    throw e;
                }
            }
        }
        System.out.println("graphwatch-neo4j ready bolt://127.0.0.1:" + port);
        System.out.flush();
        Thread.currentThread().join();
    }
}
