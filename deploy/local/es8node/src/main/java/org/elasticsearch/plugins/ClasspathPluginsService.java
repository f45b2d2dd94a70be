package org.elasticsearch.plugins;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import org.elasticsearch.Version;
import org.elasticsearch.action.admin.cluster.node.info.PluginsAndModules;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.jdk.ModuleQualifiedExportsService;

/**
 * A PluginsService that also loads plugins given as classes on the classpath (what the test
 * framework's MockPluginsService does, without the randomized-testing runner). Lives in
 * org.elasticsearch.plugins for the package-private LoadedPlugin/loadPlugin/loadExtensions.
 */
public class ClasspathPluginsService extends PluginsService {
    private final List<LoadedPlugin> all;
    private final PluginsAndModules allInfo;

    public ClasspathPluginsService(Settings settings, Environment env, PluginsLoader loader, Collection<Class<? extends Plugin>> classes) {
        super(settings, env.configDir(), loader);
        List<LoadedPlugin> loaded = new ArrayList<>();
        for (Class<? extends Plugin> c : classes) {
            Plugin p = loadPlugin(c, settings, env.configDir());
            PluginDescriptor d = new PluginDescriptor(c.getName(), "classpath plugin", "NA", Version.CURRENT.toString(),
                Integer.toString(Runtime.version().feature()), c.getName(), null, List.of(), false, false, false, false);
            loaded.add(new LoadedPlugin(d, p, c.getClassLoader()));
        }
        List<PluginRuntimeInfo> infos = new ArrayList<>(super.info().getPluginInfos());
        loaded.stream().map(LoadedPlugin::descriptor).map(PluginRuntimeInfo::new).forEach(infos::add);
        loadExtensions(loaded);
        loaded.addAll(super.plugins());
        this.all = List.copyOf(loaded);
        this.allInfo = new PluginsAndModules(infos, super.info().getModuleInfos());
    }

    /** An empty PluginsLoader (createPluginsLoader needs the server as a named module). */
    public static PluginsLoader emptyLoader() {
        return new PluginsLoader(java.util.Set.of(), java.util.Set.of(), Map.of());
    }

    @Override
    protected final List<LoadedPlugin> plugins() {
        return all;
    }

    @Override
    public PluginsAndModules info() {
        return allInfo;
    }
}
