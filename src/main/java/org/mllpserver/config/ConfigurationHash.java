package org.mllpserver.config;

import java.lang.reflect.RecordComponent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A SHA-256 over the effective configuration, for the audit trail ("which configuration was in
 * effect"): the same settings give the same hash across restarts and machines. Secrets are not
 * in what is hashed: connector settings render without them (their {@code toString} hides
 * passwords and header values), and a predicate (TLS_ALLOWED_CLIENTS) renders as its kind.
 */
public final class ConfigurationHash {

    private ConfigurationHash() {
    }

    public static String of(ServerConfig config) {
        StringBuilder text = new StringBuilder();
        render(config, text);
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.toString().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static void render(Object value, StringBuilder out) {
        switch (value) {
            case null -> out.append("null");
            case Record record when !(record instanceof org.mllpserver.delivery.ConnectorSettings) -> renderRecord(record, out);
            case Optional<?> optional -> {
                out.append("Optional[");
                optional.ifPresent(v -> render(v, out));
                out.append(']');
            }
            case Map<?, ?> map -> {
                out.append('{');
                new TreeMap<>(map).forEach((k, v) -> {
                    out.append(k).append('=');
                    render(k instanceof String key && key.matches("(?i).*(password|token|secret|authorization).*") ? "<secret>" : v, out);
                    out.append(',');
                });
                out.append('}');
            }
            case Collection<?> collection -> {
                out.append('[');
                collection.forEach(v -> {
                    render(v, out);
                    out.append(',');
                });
                out.append(']');
            }
            case java.util.function.Predicate<?> predicate -> out.append("<predicate>");
            default -> out.append(value);
        }
    }

    private static void renderRecord(Record record, StringBuilder out) {
        out.append(record.getClass().getSimpleName()).append('(');
        for (RecordComponent component : record.getClass().getRecordComponents()) {
            if (component.getName().equals("keys")) continue; // a connector's settings as written, secrets included: its settings render without them
            out.append(component.getName()).append('=');
            if (component.getName().matches("(?i).*(password|token|secret).*")) {
                out.append("<secret>;");
                continue;
            }
            try {
                render(component.getAccessor().invoke(record), out);
            } catch (ReflectiveOperationException e) {
                out.append("<unreadable>");
            }
            out.append(';');
        }
        out.append(')');
    }
}
