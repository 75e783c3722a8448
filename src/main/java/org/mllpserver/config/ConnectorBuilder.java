package org.mllpserver.config;

import org.mllpserver.delivery.ConnectorSettings;
import org.mllpserver.delivery.PostgresUrls;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns one connector's keys into its typed settings, recording every problem. Values may refer
 * to environment variables as {@code ${NAME}} (for secrets such as an Authorization header);
 * a problem message never repeats a value that may be secret.
 */
final class ConnectorBuilder {

    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);
    static final String DEFAULT_TABLE = "hl7_messages";
    static final int DEFAULT_BATCH_SIZE = 500;
    /** A timeout past an hour is a typo (a unit forgotten). */
    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");
    private static final Pattern HEADER_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");

    private final String name;
    private final Map<String, String> keys;
    private final Map<String, String> env;
    private final List<String> problems;

    ConnectorBuilder(String name, Map<String, String> keys, Map<String, String> env, List<String> problems) {
        this.name = name;
        this.keys = keys;
        this.env = env;
        this.problems = problems;
    }

    /** The settings, or null when a problem was recorded. */
    ConnectorSettings build(Routing.Type type) {
        int before = problems.size();
        ConnectorSettings settings = switch (type) {
            case HTTP -> http();
            case POSTGRES -> postgres();
            case MLLP -> mllp();
            case FILE -> file();
        };
        return problems.size() == before ? settings : null;
    }

    private ConnectorSettings.Http http() {
        URI url = url(java.util.Set.of("http", "https"), "https://ehr.example.com/hl7");
        ConnectorSettings.HttpFormat format = ConnectorSettings.HttpFormat.RAW;
        String formatText = keys.getOrDefault("format", "raw").toLowerCase(Locale.ROOT);
        switch (formatText) {
            case "raw" -> format = ConnectorSettings.HttpFormat.RAW;
            case "json" -> format = ConnectorSettings.HttpFormat.JSON;
            default -> problem("format must be raw or json");
        }
        Optional<Path> ca = file("ca_file");
        return new ConnectorSettings.Http(url, format, headers(), timeout("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
                timeout("request_timeout", DEFAULT_REQUEST_TIMEOUT), ca);
    }

    private ConnectorSettings.Mllp mllp() {
        URI url = url(java.util.Set.of("mllp", "mllps"), "mllp://host:2575 or mllps://host:2576");
        int port = url == null ? 0 : url.getPort();
        if (url != null && (port < 1 || port > 65535)) problem("url needs a port, e.g. mllp://host:2575");
        boolean tls = url != null && url.getScheme().equalsIgnoreCase("mllps");
        Optional<Path> ca = file("ca_file");
        Optional<Path> cert = file("cert_file");
        Optional<Path> key = file("key_file");
        if (!tls && (ca.isPresent() || cert.isPresent() || key.isPresent())) problem("ca_file, cert_file and key_file need an mllps:// url");
        if (cert.isPresent() != key.isPresent()) problem("a client certificate needs both cert_file and key_file");
        return new ConnectorSettings.Mllp(url == null ? "" : url.getHost(), port, timeout("connect_timeout", DEFAULT_CONNECT_TIMEOUT),
                timeout("ack_timeout", DEFAULT_ACK_TIMEOUT), tls, ca, cert, key);
    }

    /** A file setting: it must be readable now. */
    private Optional<Path> file(String key) {
        Optional<Path> file = Optional.ofNullable(keys.get(key)).filter(f -> !f.isEmpty()).map(Path::of);
        file.filter(f -> !Files.isReadable(f)).ifPresent(f -> problem(key + " " + f + " cannot be read"));
        return file;
    }

    private ConnectorSettings.File file() {
        String directory = keys.getOrDefault("directory", "");
        if (directory.isEmpty()) problem("a file connector needs a directory");
        return new ConnectorSettings.File(Path.of(directory).toAbsolutePath().normalize());
    }

    /**
     * The connector's url, else DATABASE_URL, else PGHOST/PGPORT/PGDATABASE/PGUSER/PGPASSWORD
     * (each with libpq's default). A {@code postgres://user:password@host:port/db} URL or a
     * {@code jdbc:postgresql:} one ({@link PostgresUrls}); PGUSER/PGPASSWORD fill what it leaves out.
     */
    private ConnectorSettings.Postgres postgres() {
        String table = keys.getOrDefault("table", DEFAULT_TABLE);
        if (!TABLE.matcher(table).matches()) problem("table \"" + table + "\" is not a plain SQL name (letters, digits, _; schema.table allowed)");
        int batch = (int) number("batch_size", DEFAULT_BATCH_SIZE, 1, 10_000);
        Duration connect = timeout("connect_timeout", DEFAULT_CONNECT_TIMEOUT);
        String url = expand(keys.getOrDefault("url", ""), "url");
        if (url.isEmpty()) url = env.getOrDefault("DATABASE_URL", "");
        if (url.isEmpty()) {
            String host = env.getOrDefault("PGHOST", "localhost");
            String port = env.getOrDefault("PGPORT", "5432");
            String database = env.getOrDefault("PGDATABASE", env.getOrDefault("PGUSER", System.getProperty("user.name")));
            return new ConnectorSettings.Postgres("jdbc:postgresql://" + hostForUrl(host) + ":" + port + "/" + database,
                    env.getOrDefault("PGUSER", ""), env.getOrDefault("PGPASSWORD", ""), table, batch, connect);
        }
        try {
            PostgresUrls.Jdbc jdbc = PostgresUrls.jdbcUrl(url);
            String user = jdbc.user().isEmpty() ? env.getOrDefault("PGUSER", "") : jdbc.user();
            String password = jdbc.password().isEmpty() ? env.getOrDefault("PGPASSWORD", "") : jdbc.password();
            return new ConnectorSettings.Postgres(jdbc.jdbcUrl(), user, password, table, batch, connect);
        } catch (IllegalArgumentException e) {
            problem("url: " + e.getMessage()); // never the URL itself: it may hold a password
            return null;
        }
    }

    private static String hostForUrl(String host) {
        return host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    }

    private URI url(java.util.Set<String> schemes, String example) {
        String written = keys.getOrDefault("url", ""); // quoted in problems: the value with ${VAR} replaced may hold a secret
        String url = expand(written, "url");
        if (url.isEmpty()) {
            problem("needs a url, e.g. " + example);
            return null;
        }
        try {
            URI uri = new URI(url);
            if (uri.getScheme() == null || !schemes.contains(uri.getScheme().toLowerCase(Locale.ROOT)) || uri.getHost() == null) {
                problem("url \"" + written + "\" must be " + String.join(" or ", schemes.stream().sorted().toList()) + " with a host, e.g. " + example);
                return null;
            }
            return uri;
        } catch (URISyntaxException e) {
            problem("url \"" + written + "\" is not a valid URL (" + e.getReason() + ")");
            return null;
        }
    }

    /** "Name: value" lines (or "Name: value; Name2: value2"), values with ${VAR} taken from the environment. */
    private Map<String, String> headers() {
        Map<String, String> headers = new LinkedHashMap<>();
        String text = keys.getOrDefault("headers", "");
        if (text.isBlank()) return headers;
        // One header per line; in an environment variable, where lines are awkward, ; separates them too.
        for (String line : text.contains("\n") ? text.split("\n") : text.split(";")) {
            if (line.isBlank()) continue;
            int colon = line.indexOf(':');
            String header = colon < 0 ? line.strip() : line.substring(0, colon).strip();
            if (colon < 0) {
                problem("headers: a header without ':' (write \"Name: value\"; the text is not repeated, it may be a secret)");
                continue;
            }
            if (!HEADER_NAME.matcher(header).matches()) {
                problem("headers: \"" + header + "\" is not a header name");
                continue;
            }
            if (List.of("content-type", "idempotency-key", "content-length", "host").contains(header.toLowerCase(Locale.ROOT))) {
                problem("headers: " + header + " is set by the connector itself");
                continue;
            }
            headers.put(header, expand(line.substring(colon + 1).strip(), "header " + header));
        }
        return headers;
    }

    /** Replaces ${NAME} with the environment variable's value; a missing one is a problem (named, not its value). */
    private String expand(String value, String what) {
        Matcher m = REFERENCE.matcher(value);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String variable = m.group(1);
            String replacement = env.get(variable);
            if (replacement == null) {
                problem(what + " refers to ${" + variable + "}, which is not set");
                replacement = "";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(replacement));
        }
        m.appendTail(out);
        return out.toString();
    }

    private Duration timeout(String key, Duration fallback) {
        if (!keys.containsKey(key)) return fallback;
        try {
            Duration d = Values.duration(keys.get(key));
            if (d.isZero() || d.compareTo(MAX_TIMEOUT) > 0) throw new IllegalArgumentException("must be more than 0 and at most 1h");
            return d;
        } catch (IllegalArgumentException e) {
            problem(key + " '" + keys.get(key) + "' " + e.getMessage());
            return fallback;
        }
    }

    private long number(String key, long fallback, long min, long max) {
        if (!keys.containsKey(key)) return fallback;
        try {
            long n = Values.integer(keys.get(key));
            if (n < min || n > max) throw new IllegalArgumentException("is out of range (" + min + " to " + max + ")");
            return n;
        } catch (IllegalArgumentException e) {
            problem(key + " '" + keys.get(key) + "' " + e.getMessage());
            return fallback;
        }
    }

    private void problem(String text) {
        problems.add("connector " + name + ": " + text);
    }
}
