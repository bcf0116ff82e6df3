package relgraph.testserver;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

/**
 * One Apache Kafka 4 node in KRaft mode (broker and controller in this JVM), listening on
 * 127.0.0.1 only: the broker relgraph's kafka-marked tests run against.
 *
 * <p>Usage: {@code java -Xmx384m -cp target/classes:target/lib/* relgraph.testserver.KafkaTestServer
 * --log-dir DIR [--port N]}. Port 0 (the default) picks a free port; the controller gets another
 * free one. A log directory formatted before (by this launcher) is reopened with its topics and
 * committed offsets. When the broker answers an admin request it prints one line
 * {@code relgraph-kafka ready 127.0.0.1:PORT} (the bootstrap address) and then serves until
 * SIGTERM/SIGINT, on which it shuts down cleanly (logs flushed, a clean-shutdown marker written).
 */
public final class KafkaTestServer {
    static final String READY = "relgraph-kafka ready ";

    private KafkaTestServer() {}

    public static void main(String[] args) throws Exception {
        Path logDir = null;
        int port = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--log-dir" -> logDir = Path.of(args[++i]).toAbsolutePath();
                case "--port" -> port = Integer.parseInt(args[++i]);
                default -> usage("unknown argument " + args[i]);
            }
        }
        if (logDir == null) {
            usage("--log-dir DIR is required");
        }
        if (port == 0) {
            port = freePort();
        }
        int controllerPort = freePort();
        long started = System.nanoTime();
        PrintStream out = System.out;
        Files.createDirectories(logDir);
        Path data = logDir.resolve("data");
        Properties props = properties(data, port, controllerPort);
        Path config = logDir.resolve("server.properties");
        try (Writer writer = Files.newBufferedWriter(config, StandardCharsets.UTF_8)) {
            props.store(writer, "written by relgraph.testserver.KafkaTestServer");
        }
        // A directory formatted before keeps its cluster id (formatting it again with a new one
        // is refused), its topics and its committed offsets.
        if (!Files.exists(data.resolve("meta.properties"))) {
            format(config, logDir);
        }
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("relgraph-kafka shutting down");
            server.shutdown();
            server.awaitShutdown();
            out.println("relgraph-kafka stopped");
            out.flush();
            stopped.countDown();
        }, "relgraph-kafka-shutdown"));
        server.startup();
        String bootstrap = "127.0.0.1:" + port;
        awaitBroker(bootstrap);
        out.printf("relgraph-kafka: Kafka %s (KRaft, one node) ready in %.1f s, data in %s%n",
                org.apache.kafka.common.utils.AppInfoParser.getVersion(),
                (System.nanoTime() - started) / 1e9, data);
        out.println(READY + bootstrap);
        out.flush();
        stopped.await();
    }

    /** A one-node cluster: every replication factor 1, and small internal topics. */
    private static Properties properties(Path data, int port, int controllerPort) {
        Properties props = new Properties();
        props.putAll(Map.ofEntries(
                Map.entry("process.roles", "broker,controller"),
                Map.entry("node.id", "1"),
                Map.entry("controller.quorum.voters", "1@127.0.0.1:" + controllerPort),
                Map.entry("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort),
                Map.entry("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port),
                Map.entry("controller.listener.names", "CONTROLLER"),
                Map.entry("inter.broker.listener.name", "PLAINTEXT"),
                Map.entry("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"),
                Map.entry("log.dirs", data.toString()),
                Map.entry("num.partitions", "1"),
                // The consumer-offsets topic has 50 partitions by default: one is enough here and
                // makes the first group join fast.
                Map.entry("offsets.topic.num.partitions", "1"),
                Map.entry("offsets.topic.replication.factor", "1"),
                Map.entry("transaction.state.log.replication.factor", "1"),
                Map.entry("transaction.state.log.min.isr", "1"),
                Map.entry("transaction.state.log.num.partitions", "1"),
                Map.entry("share.coordinator.state.topic.replication.factor", "1"),
                Map.entry("share.coordinator.state.topic.min.isr", "1"),
                // A test broker: a consumer group starts consuming at once, not after 3 s.
                Map.entry("group.initial.rebalance.delay.ms", "0"),
                Map.entry("auto.create.topics.enable", "true")));
        return props;
    }

    /** {@code kafka-storage.sh format}: a new cluster id and the metadata log's bootstrap. */
    private static void format(Path config, Path logDir) throws IOException {
        try (PrintStream sink = new PrintStream(
                Files.newOutputStream(logDir.resolve("format.out")), true, StandardCharsets.UTF_8)) {
            int code = StorageTool.execute(new String[] {
                "format", "--config", config.toString(),
                "--cluster-id", Uuid.randomUuid().toString()}, sink);
            if (code != 0) {
                throw new IllegalStateException("formatting " + logDir + " failed (exit " + code
                        + "): see " + logDir.resolve("format.out"));
            }
        }
    }

    /** Returns once the broker answers on its listener (it has joined its own controller). */
    private static void awaitBroker(String bootstrap) throws Exception {
        Properties admin = new Properties();
        admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        admin.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        try (Admin client = Admin.create(admin)) {
            client.describeCluster().nodes().get(120, TimeUnit.SECONDS);
            client.listTopics().names().get(120, TimeUnit.SECONDS);
        }
    }

    private static void usage(String problem) {
        System.err.println("relgraph-kafka: " + problem);
        System.err.println("usage: KafkaTestServer --log-dir DIR [--port N]");
        System.exit(2);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket()) {
            socket.bind(new InetSocketAddress("127.0.0.1", 0));
            return socket.getLocalPort();
        }
    }
}
