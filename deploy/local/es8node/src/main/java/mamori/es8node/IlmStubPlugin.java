package mamori.es8node;

import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.elasticsearch.client.internal.node.NodeClient;
import org.elasticsearch.cluster.metadata.IndexNameExpressionResolver;
import org.elasticsearch.cluster.node.DiscoveryNodes;
import org.elasticsearch.common.io.stream.NamedWriteableRegistry;
import org.elasticsearch.common.settings.ClusterSettings;
import org.elasticsearch.common.settings.IndexScopedSettings;
import org.elasticsearch.common.settings.Setting;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.common.settings.SettingsFilter;
import org.elasticsearch.features.NodeFeature;
import org.elasticsearch.plugins.ActionPlugin;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.rest.BaseRestHandler;
import org.elasticsearch.rest.RestController;
import org.elasticsearch.rest.RestHandler;
import org.elasticsearch.rest.RestRequest;
import org.elasticsearch.rest.RestResponse;
import org.elasticsearch.rest.RestStatus;
import org.elasticsearch.xcontent.XContentBuilder;

/**
 * DIAGNOSTIC ONLY (loaded with ES8NODE_ILM_STUB=1): index lifecycle management is the x-pack-ilm
 * plugin, which Elastic does not publish to Maven Central. This accepts PUT /_ilm/policy/{name}
 * and the index.lifecycle.name index setting and does nothing with them (no rollover, no
 * retention), so that a client that installs a policy first can be exercised further.
 */
public final class IlmStubPlugin extends Plugin implements ActionPlugin {
    static final Setting<String> LIFECYCLE_NAME = Setting.simpleString("index.lifecycle.name",
        Setting.Property.Dynamic, Setting.Property.IndexScope);

    @Override
    public List<Setting<?>> getSettings() {
        return List.of(LIFECYCLE_NAME);
    }

    @Override
    public Collection<RestHandler> getRestHandlers(Settings settings, NamedWriteableRegistry registry, RestController controller,
            ClusterSettings clusterSettings, IndexScopedSettings indexScopedSettings, SettingsFilter settingsFilter,
            IndexNameExpressionResolver resolver, Supplier<DiscoveryNodes> nodesInCluster, Predicate<NodeFeature> clusterSupportsFeature) {
        return List.of(new BaseRestHandler() {
            @Override
            public String getName() {
                return "mamori_ilm_stub";
            }

            @Override
            public List<Route> routes() {
                return List.of(new Route(RestRequest.Method.PUT, "/_ilm/policy/{name}"));
            }

            @Override
            protected RestChannelConsumer prepareRequest(RestRequest request, NodeClient client) {
                request.param("name");
                request.content(); // consumed, ignored
                return channel -> {
                    XContentBuilder b = channel.newBuilder();
                    b.startObject().field("acknowledged", true).endObject();
                    channel.sendResponse(new RestResponse(RestStatus.OK, b));
                };
            }
        });
    }
}
