package search.node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;

/**
 * Runs one OpenSearch node in this JVM, with the netty4 HTTP/transport plugin and analysis-common
 * loaded from the classpath (no plugins/ folder, no distribution to unpack).
 *
 * Usage: java -cp 'target/classes:target/lib/*' search.node.LocalNode key=value ...
 * Every key=value argument becomes a node setting (like opensearch -Ekey=value); a comma in
 * discovery.seed_hosts or cluster.initial_cluster_manager_nodes separates list items.
 * Defaults: path.home=./os-home, network.host=127.0.0.1 (loopback only), http.port=9200,
 * transport.port=9300, discovery.type=single-node unless discovery.seed_hosts is given.
 * SIGTERM closes the node cleanly.
 */
public final class LocalNode {

    static final String PLUGINS =
            "org.opensearch.transport.Netty4Plugin,org.opensearch.analysis.common.CommonAnalysisPlugin";
    static final List<String> LIST_SETTINGS =
            List.of("discovery.seed_hosts", "cluster.initial_cluster_manager_nodes");

    /** Node's plugin-accepting constructor is protected; this subclass exposes it. */
    static final class PluginAwareNode extends Node {
        PluginAwareNode(Settings settings, Collection<Class<? extends Plugin>> plugins) {
            super(InternalSettingsPreparer.prepareEnvironment(settings, Collections.emptyMap(), null,
                    () -> settings.get("node.name")), plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        Settings.Builder b = Settings.builder()
                .put("path.home", "os-home")
                .put("cluster.name", "search-local")
                .put("node.name", "node-1")
                .put("network.host", "127.0.0.1")
                .put("http.port", "9200")
                .put("transport.port", "9300");
        boolean clustered = false;
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("expected key=value, got " + a);
            String k = a.substring(0, eq), v = a.substring(eq + 1);
            if (k.equals("discovery.seed_hosts")) clustered = true;
            if (LIST_SETTINGS.contains(k)) {
                b.putList(k, Arrays.asList(v.split(",")));
            } else {
                b.put(k, v);
            }
        }
        if (!clustered && b.get("discovery.type") == null) b.put("discovery.type", "single-node");
        Path home = Paths.get(b.get("path.home")).toAbsolutePath();
        b.put("path.home", home.toString());
        Files.createDirectories(home);
        Settings settings = b.build();

        LogConfigurator.registerErrorListener();
        LogConfigurator.setNodeName(settings.get("node.name"));
        LogConfigurator.configureWithoutConfig(settings);   // console logging, no log4j2.properties needed

        List<Class<? extends Plugin>> plugins = new ArrayList<>();
        for (String cn : PLUGINS.split(",")) plugins.add(Class.forName(cn).asSubclass(Plugin.class));
        Node node = new PluginAwareNode(settings, plugins);
        CountDownLatch done = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try { node.close(); } catch (Exception e) { e.printStackTrace(); }
            done.countDown();
        }, "node-shutdown"));
        node.start();
        System.out.printf("LOCAL_NODE_STARTED name=%s http=%s in %.2fs pid=%d%n", settings.get("node.name"),
                settings.get("http.port"), (System.nanoTime() - t0) / 1e9, ProcessHandle.current().pid());
        System.out.flush();
        done.await();
    }
}
