package mamori.es8node;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import java.util.Collection;
import java.util.Collections;

import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.transport.TransportAddress;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.ClasspathNode;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.netty4.Netty4Plugin;

/**
 * One genuine Elasticsearch 8 node (server + transport-netty4 from Maven Central) in this JVM, for
 * deploy/local/elasticsearch. Usage:
 *
 *   Es8Node --home DIR [--http-port N] [--address-file FILE] [--cluster-name NAME]
 *
 * path.home is DIR, data under DIR/data, logs under DIR/logs. --http-port 0 (the default)
 * lets the OS pick a port. When the node is started the bound HTTP address is printed as
 * "ES8NODE_HTTP=127.0.0.1:PORT" and written (atomically) to the address file. The node
 * runs until SIGTERM/SIGINT; a shutdown hook closes it.
 */
public final class Es8Node {
    private Es8Node() {}

    public static void main(String[] args) throws Exception {
        // what the Elasticsearch launcher does first: the server's own logging facade over log4j
        LogConfigurator.configureESLogging();
        String home = null;
        String httpPort = "0";
        String addressFile = null;
        String clusterName = "mamori-local";
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String v = (i + 1 < args.length) ? args[i + 1] : null;
            switch (a) {
                case "--home": home = need(a, v); i++; break;
                case "--http-port": httpPort = need(a, v); i++; break;
                case "--address-file": addressFile = need(a, v); i++; break;
                case "--cluster-name": clusterName = need(a, v); i++; break;
                default:
                    System.err.println("es8node: unknown argument " + a);
                    System.exit(2);
            }
        }
        if (home == null) {
            System.err.println("es8node: --home DIR is required");
            System.exit(2);
        }
        Path homeDir = Paths.get(home).toAbsolutePath();
        Files.createDirectories(homeDir.resolve("data"));
        Files.createDirectories(homeDir.resolve("logs"));
        Files.createDirectories(homeDir.resolve("config"));
        Files.createDirectories(homeDir.resolve("plugins"));
        Files.createDirectories(homeDir.resolve("modules"));

        Settings settings = Settings.builder()
            .put("cluster.name", clusterName)
            .put("node.name", "mamori-es8-0")
            .put("path.home", homeDir.toString())
            .put("path.data", homeDir.resolve("data").toString())
            .put("path.logs", homeDir.resolve("logs").toString())
            .put("network.host", "127.0.0.1")
            .put("http.port", httpPort)
            .put("transport.port", "0")
            .put("http.type", "netty4")
            .put("transport.type", "netty4")
            .put("discovery.type", "single-node")
            // a small developer disk must not flip indices to read-only
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            // writes to a data stream name create it from its template (the default, kept explicit)
            .put("action.auto_create_index", true)
            .build();

        Environment env = InternalSettingsPreparer.prepareEnvironment(
            settings, Collections.emptyMap(), homeDir.resolve("config"), () -> "mamori-es8-0");
        final Node node;
        try {
            List<Class<? extends Plugin>> plugins = new java.util.ArrayList<>(
                List.of(Netty4Plugin.class, RootInfoPlugin.class, LuceneAnalysisPlugin.class));
            if ("1".equals(System.getenv("ES8NODE_ILM_STUB"))) {
                plugins.add(IlmStubPlugin.class);
            }
            node = new ClasspathNode(env, plugins);
        } catch (Throwable t) {
            System.err.println("es8node: could not create the node:");
            t.printStackTrace();
            System.exit(1);
            return;
        }
        CountDownLatch closed = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                System.err.println("es8node: error while closing: " + e);
            } finally {
                closed.countDown();
            }
        }, "searchnode-shutdown"));

        try {
            node.start();
        } catch (Throwable t) {
            // the node's own non-daemon threads would keep the JVM alive: exit (the hook closes it)
            System.err.println("es8node: could not start the node:");
            t.printStackTrace();
            System.exit(1);
        }
        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        TransportAddress bound = http.boundAddress().publishAddress();
        String addr = bound.getAddress() + ":" + bound.getPort();
        if (addressFile != null) {
            Path target = Paths.get(addressFile).toAbsolutePath();
            Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
            Files.write(tmp, (addr + "\n").getBytes(StandardCharsets.UTF_8));
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        System.out.println("ES8NODE_HTTP=" + addr);
        System.out.flush();
        closed.await();
    }

    private static String need(String flag, String v) {
        if (v == null) {
            System.err.println("es8node: " + flag + " needs a value");
            System.exit(2);
        }
        return v;
    }
}
