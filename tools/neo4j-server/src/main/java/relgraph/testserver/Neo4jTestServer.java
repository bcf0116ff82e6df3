package relgraph.testserver;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.neo4j.configuration.Config;
import org.neo4j.configuration.GraphDatabaseInternalSettings;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.io.ByteUnit;
import org.neo4j.io.fs.DefaultFileSystemAbstraction;
import org.neo4j.kernel.api.procedure.GlobalProcedures;
import org.neo4j.kernel.impl.security.User;
import org.neo4j.kernel.internal.GraphDatabaseAPI;
import org.neo4j.logging.NullLogProvider;
import org.neo4j.memory.EmptyMemoryTracker;
import org.neo4j.procedure.Description;
import org.neo4j.procedure.Mode;
import org.neo4j.procedure.Procedure;
import org.neo4j.server.security.SecureHasher;
import org.neo4j.server.security.SystemGraphCredential;
import org.neo4j.server.security.auth.CommunitySecurityModule;
import org.neo4j.server.security.auth.FileUserRepository;

/**
 * Neo4j Community 5.26 embedded, with the open-source Graph Data Science library registered,
 * serving Bolt on 127.0.0.1: the server relgraph's neo4j-marked tests run against.
 *
 * <p>Usage: {@code java -Xmx2g -cp target/classes:target/lib/* relgraph.testserver.Neo4jTestServer
 * --home DIR [--port N] [--page-cache 512m] [--no-auth] [--no-gds]}. {@code --no-gds} leaves the
 * GDS procedures and functions unregistered (a Neo4j without the plugin, as far as Cypher can
 * tell: {@code gds.version()} is an unknown function). The password comes from the
 * environment variable {@code NEO4J_PASSWORD} (not the command line, which {@code ps} shows);
 * the user from {@code NEO4J_USERNAME} (default {@code neo4j}). Port 0 (the default) picks a
 * free port. When ready it prints one line {@code relgraph-neo4j ready bolt://127.0.0.1:PORT}
 * and then serves until SIGTERM/SIGINT, on which it shuts the databases down cleanly, or halts
 * if that has not finished in {@code --stop-timeout} seconds (default 25): a database that
 * panicked on a full disk never finishes, its shutdown spinning on pages it cannot flush.
 */
public final class Neo4jTestServer {
    static final String READY = "relgraph-neo4j ready ";

    private Neo4jTestServer() {}

    public static void main(String[] args) throws Exception {
        Path home = null;
        int port = 0;
        long pageCache = ByteUnit.mebiBytes(512);
        boolean auth = true;
        boolean gds = true;
        long stopTimeout = 25;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--home" -> home = Path.of(args[++i]).toAbsolutePath();
                case "--port" -> port = Integer.parseInt(args[++i]);
                case "--page-cache" -> pageCache = ByteUnit.parse(args[++i]);
                case "--no-auth" -> auth = false;
                case "--no-gds" -> gds = false;
                case "--stop-timeout" -> stopTimeout = Long.parseLong(args[++i]);
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (home == null) {
            usage("--home DIR is required");
        }
        String user = System.getenv().getOrDefault("NEO4J_USERNAME", "neo4j");
        String password = System.getenv().getOrDefault("NEO4J_PASSWORD", "");
        if (auth && password.length() < 8) {
            usage("set NEO4J_PASSWORD (8 characters or more), or pass --no-auth");
        }
        if (port == 0) {
            port = freePort();
        }
        long started = System.nanoTime();
        // Neo4j's own logs (debug.log) go under HOME/logs; only our lines reach stdout.
        PrintStream out = System.out;
        // A new home gets its password as `neo4j-admin dbms set-initial-password` gives it: the
        // system database reads it when it is created. Changing it by Cypher after the start
        // took 6-7 s of a 20-30 s start (measured). A reopened home is changed by Cypher.
        boolean initial = auth && "neo4j".equals(user)
                && !Files.exists(home.resolve("data").resolve("databases").resolve("system"));
        if (initial) {
            setInitialPassword(home, password);
        }
        SocketAddress bolt = new SocketAddress("127.0.0.1", port);
        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, bolt)
                // The routing table (neo4j:// URIs) hands out the advertised address.
                .setConfig(BoltConnector.advertised_address, bolt)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // Sized for a 2-core / 24 GB machine shared with other work: without it Neo4j
                // sizes the page cache from total RAM. The heap is the JVM's -Xmx.
                .setConfig(GraphDatabaseSettings.pagecache_memory, pageCache)
                .setConfig(GraphDatabaseSettings.procedure_unrestricted, List.of("gds.*"))
                // A test server: no anonymous usage reports to neo4j.com.
                .setConfig(GraphDatabaseSettings.udc_enabled, false)
                // A stop otherwise spends 10 s in the Bolt server's shutdown after the databases
                // have stopped: 5 s waiting for client connections to close themselves and a 5 s
                // quiet period of its Netty event loops (measured; defaults of 5.26). Clients of a
                // test server (the tests, `relgraph serve` under an outage test) see their
                // connections closed either way, and the tests start and stop a server a dozen
                // times a run.
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofMillis(200))
                .setConfig(GraphDatabaseInternalSettings.netty_server_shutdown_quiet_period, 0)
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        long stopSeconds = stopTimeout;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("relgraph-neo4j shutting down");
            out.flush();
            Thread watchdog = new Thread(() -> {
                try {
                    Thread.sleep(stopSeconds * 1000);
                } catch (InterruptedException done) {
                    return;
                }
                out.println("relgraph-neo4j: not stopped after " + stopSeconds + " s (a database "
                        + "that cannot write its files, as on a full disk, never is): halting");
                out.flush();
                Runtime.getRuntime().halt(3);
            }, "relgraph-neo4j-stop-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
            dbms.shutdown();
            watchdog.interrupt();
            out.println("relgraph-neo4j stopped");
            out.flush();
            stopped.countDown();
        }, "relgraph-neo4j-shutdown"));
        GraphDatabaseService db = dbms.database(GraphDatabaseSettings.DEFAULT_DATABASE_NAME);
        double dbmsUp = (System.nanoTime() - started) / 1e9;
        int registered = gds ? registerGds(db) : 0;
        if (auth && !initial) {
            setPassword(dbms, user, password);
        }
        out.printf(
                "relgraph-neo4j: Neo4j %s up in %.1f s; %d GDS procedure/function classes registered;"
                        + " ready in %.1f s%n",
                neo4jVersion(db), dbmsUp, registered, (System.nanoTime() - started) / 1e9);
        out.println(READY + "bolt://127.0.0.1:" + port);
        out.flush();
        stopped.await();
    }

    private static void usage(String problem) {
        System.err.println("relgraph-neo4j: " + problem);
        System.err.println("usage: Neo4jTestServer --home DIR [--port N] [--page-cache 512m] [--no-auth] [--no-gds] [--stop-timeout 25]");
        System.exit(2);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        }
    }

    private static String neo4jVersion(GraphDatabaseService db) {
        return db.executeTransactionally(
                "CALL dbms.components() YIELD versions, edition RETURN versions[0] + ' ' + edition AS v",
                Map.of(),
                result -> String.valueOf(result.next().get("v")));
    }

    /** Writes the initial user file (data/dbms/auth.ini) a new system database takes its
     * neo4j user from, as `neo4j-admin dbms set-initial-password` does: no change required. */
    private static void setInitialPassword(Path home, String password) throws Exception {
        Config config = Config.newBuilder().set(GraphDatabaseSettings.neo4j_home, home).build();
        Path file = CommunitySecurityModule.getInitialUserRepositoryFile(config);
        try (DefaultFileSystemAbstraction fs = new DefaultFileSystemAbstraction()) {
            fs.mkdirs(file.getParent());
            FileUserRepository users = new FileUserRepository(
                    fs, file, NullLogProvider.getInstance(), EmptyMemoryTracker.INSTANCE);
            users.start();
            SystemGraphCredential credential = SystemGraphCredential.createCredentialForPassword(
                    password.getBytes(StandardCharsets.UTF_8), new SecureHasher());
            users.create(new User("neo4j", null, credential, false, false));
            users.shutdown();
        }
    }

    /** Sets the user's password without the first-login change Neo4j otherwise demands. */
    private static void setPassword(DatabaseManagementService dbms, String user, String password) {
        GraphDatabaseService system = dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME);
        // The embedded API runs with full rights, so it may manage users before any login.
        String cypher = "neo4j".equals(user)
                ? "ALTER USER neo4j SET PASSWORD $password CHANGE NOT REQUIRED"
                : "CREATE OR REPLACE USER `" + user.replace("`", "``")
                        + "` SET PASSWORD $password CHANGE NOT REQUIRED";
        try {
            system.executeTransactionally(cypher, Map.of("password", password));
        } catch (RuntimeException e) {
            // A restart on the same data with the same password: Neo4j refuses a new password
            // equal to the old, and the old one is the one wanted. Starting with another and
            // changing it back left a window in which clients were refused (a retrying
            // `relgraph serve` took that for a wrong password and stopped retrying).
            if (!String.valueOf(e.getMessage()).contains("cannot be the same")) {
                throw e;
            }
        }
    }

    /**
     * Registers every GDS class with a procedure, function or aggregation function, as GDS's own
     * open-packaging smoke test does (its ProcedureAndFunctionScanner + GlobalProcedures): in the
     * packaged product a plugins-directory scan does this, which the embedded builder lacks.
     * GDS's injectable components and the gds.graph.project aggregation come in as
     * ExtensionFactory services from the same jars.
     */
    private static int registerGds(GraphDatabaseService db) throws Exception {
        GlobalProcedures procedures =
                ((GraphDatabaseAPI) db).getDependencyResolver().resolveDependency(GlobalProcedures.class);
        Set<String> procedureClasses = new LinkedHashSet<>();
        Set<String> functionClasses = new LinkedHashSet<>();
        Set<String> aggregationClasses = new LinkedHashSet<>();
        for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!entry.endsWith(".jar")) {
                continue;
            }
            try (JarFile jar = new JarFile(entry)) {
                for (JarEntry file : (Iterable<JarEntry>) jar.stream()::iterator) {
                    String name = file.getName();
                    if (!name.endsWith(".class")
                            || !(name.startsWith("org/neo4j/gds/") || name.startsWith("com/neo4j/gds/"))
                            || name.startsWith("org/neo4j/gds/test")) {
                        continue;
                    }
                    // Annotation descriptors sit in the constant pool: a byte search finds the
                    // candidate classes without loading the thousands of others.
                    String bytes;
                    try (InputStream in = jar.getInputStream(file)) {
                        bytes = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
                    }
                    String className = name.substring(0, name.length() - 6).replace('/', '.');
                    if (bytes.contains("Lorg/neo4j/procedure/Procedure;")) {
                        procedureClasses.add(className);
                    }
                    if (bytes.contains("Lorg/neo4j/procedure/UserFunction;")) {
                        functionClasses.add(className);
                    }
                    if (bytes.contains("Lorg/neo4j/procedure/UserAggregationFunction;")) {
                        aggregationClasses.add(className);
                    }
                }
            }
        }
        ClassLoader loader = Neo4jTestServer.class.getClassLoader();
        List<String> failures = new ArrayList<>();
        for (String name : procedureClasses) {
            try {
                procedures.registerProcedure(Class.forName(name, true, loader));
            } catch (Exception | LinkageError e) {
                failures.add(name + ": " + e);
            }
        }
        for (String name : functionClasses) {
            try {
                procedures.registerFunction(Class.forName(name, true, loader));
            } catch (Exception | LinkageError e) {
                failures.add(name + ": " + e);
            }
        }
        for (String name : aggregationClasses) {
            try {
                procedures.registerAggregationFunction(Class.forName(name, true, loader));
            } catch (Exception | LinkageError e) {
                failures.add(name + ": " + e);
            }
        }
        procedures.registerProcedure(ArrowOff.class);
        if (!failures.isEmpty()) {
            failures.forEach(f -> System.err.println("relgraph-neo4j: could not register " + f));
            throw new IllegalStateException(failures.size() + " GDS classes could not be registered");
        }
        if (procedureClasses.isEmpty()) {
            throw new IllegalStateException("no GDS procedures on the classpath: is target/lib/* on it?");
        }
        return procedureClasses.size() + functionClasses.size() + aggregationClasses.size();
    }

    /**
     * {@code gds.debug.arrow} as a GDS server with Arrow disabled answers it. The procedure is
     * enterprise-only, and the graphdatascience Python client calls it whenever it connects.
     */
    public static final class ArrowOff {
        /** The columns the graphdatascience client yields. */
        public static final class Row {
            public String listenAddress;
            public boolean enabled;
            public boolean running;
            public List<String> versions;

            public Row(String listenAddress, boolean enabled, boolean running, List<String> versions) {
                this.listenAddress = listenAddress;
                this.enabled = enabled;
                this.running = running;
                this.versions = versions;
            }
        }

        @Procedure(name = "gds.debug.arrow", mode = Mode.READ)
        @Description("Arrow Flight server status: disabled (this is the open-source GDS build).")
        public Stream<Row> arrow() {
            // GDS's default gds.arrow.listen_address; nothing listens there.
            return Stream.of(new Row("localhost:8491", false, false, List.of()));
        }
    }
}
