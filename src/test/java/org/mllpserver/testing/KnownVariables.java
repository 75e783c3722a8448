package org.mllpserver.testing;

import org.mllpserver.config.RoutingLoader;
import org.mllpserver.config.Variable;
import org.mllpserver.telemetry.TelemetrySettings;

import java.util.Arrays;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The environment variables the server and its launcher read: for tests that check that a
 * deployment file (systemd unit, environment file, Kubernetes manifest) names no variable the
 * server would silently ignore.
 */
public final class KnownVariables {

    /** Read by the launcher (`mllp-server`, `run.sh`), not by the server. */
    public static final Set<String> LAUNCHER = Set.of("JAVA_OPTS");
    /** A connector's settings: CONNECTOR_<NAME>_<KEY>. */
    private static final Pattern CONNECTOR = Pattern.compile("CONNECTOR_[A-Z0-9_]+_(" + String.join("|",
            RoutingLoader.CONNECTOR_KEYS.stream().filter(k -> !k.equals("name")).map(k -> k.toUpperCase(java.util.Locale.ROOT)).toList()) + ")");
    private static final Pattern RULE = Pattern.compile("VALIDATION_RULE_[A-Z0-9_]+");

    private KnownVariables() {
    }

    /** True when the server (or its launcher) reads {@code name}. */
    public static boolean known(String name) {
        return Arrays.stream(Variable.values()).anyMatch(v -> v.name().equals(name))
                || TelemetrySettings.VARIABLES.contains(name)
                || LAUNCHER.contains(name)
                || CONNECTOR.matcher(name).matches()
                || RULE.matcher(name).matches();
    }
}
