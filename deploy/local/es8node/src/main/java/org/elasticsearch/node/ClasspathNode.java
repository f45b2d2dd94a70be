package org.elasticsearch.node;

import java.util.Collection;

import org.elasticsearch.env.Environment;
import org.elasticsearch.plugins.ClasspathPluginsService;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.plugins.PluginsLoader;
import org.elasticsearch.plugins.PluginsService;

/** A Node whose plugins are classes on the classpath (package org.elasticsearch.node for NodeConstruction). */
public class ClasspathNode extends Node {
    public ClasspathNode(Environment env, Collection<Class<? extends Plugin>> plugins) {
        super(NodeConstruction.prepareConstruction(env, ClasspathPluginsService.emptyLoader(),
            new NodeServiceProvider() {
                @Override
                PluginsService newPluginService(Environment environment, PluginsLoader loader) {
                    return new ClasspathPluginsService(environment.settings(), environment, loader, plugins);
                }
            }, true));
    }
}
