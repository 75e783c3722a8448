package org.mllpserver.delivery;

import java.io.ByteArrayOutputStream;
import java.net.URLEncoder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a libpq-style connection URI ({@code postgres://user:password@host:port/database?sslmode=require},
 * also spelled {@code postgresql://}, as in {@code DATABASE_URL}) into what the JDBC driver takes: a
 * {@code jdbc:postgresql://} URL, a user and a password. A {@code jdbc:postgresql:} URL is returned
 * as it is, with an empty user and password.
 *
 * <p>The rules, after libpq's: user and password are percent-decoded (a {@code +} stays a
 * {@code +}); a host may be an IPv6 address in brackets; a missing port is 5432, a missing host
 * {@code localhost}; several {@code host:port} pairs separated by commas are kept (the driver tries
 * them in order); {@code user} and {@code password} query parameters are taken out of the URL like
 * the user info; {@code connect_timeout} and {@code application_name} become the driver's
 * {@code connectTimeout} and {@code ApplicationName}; every other parameter ({@code sslmode},
 * {@code sslrootcert}, ...) has the same name in both and is passed on. The database name and the
 * parameter values are re-encoded the way the driver decodes them.
 *
 * <p>The password is never part of the returned URL nor of an error message: messages name the
 * part of the URI that is wrong, never its text.
 */
public final class PostgresUrls {

    /** The port when a URI names none: PostgreSQL's. */
    static final int DEFAULT_PORT = 5432;

    /**
     * What the driver takes.
     *
     * @param jdbcUrl  {@code jdbc:postgresql://host:port/database?...}, without user or password
     * @param user     empty when the URI names none (the driver's default)
     * @param password empty when the URI names none; hidden by {@code toString}
     */
    public record Jdbc(String jdbcUrl, String user, String password) {
        @Override
        public String toString() {
            return "Jdbc[jdbcUrl=" + jdbcUrl + ", user=" + user + ", password=" + (password.isEmpty() ? "" : "***") + "]";
        }
    }

    /** libpq parameter names the driver spells differently. */
    private static final Map<String, String> RENAMED = Map.of("connect_timeout", "connectTimeout",
            "application_name", "ApplicationName");

    private PostgresUrls() {}

    /**
     * Converts {@code url}; throws {@link IllegalArgumentException} naming what is wrong (never the
     * URL's text) when it is neither a {@code postgres(ql)://} URI nor a {@code jdbc:postgresql:} URL.
     */
    public static Jdbc jdbcUrl(String url) {
        String lower = url.toLowerCase(Locale.ROOT);
        if (lower.startsWith("jdbc:postgresql:")) return new Jdbc(url, "", "");
        int afterScheme = lower.startsWith("postgresql://") ? "postgresql://".length()
                : lower.startsWith("postgres://") ? "postgres://".length() : -1;
        if (afterScheme < 0) {
            throw new IllegalArgumentException("the database URL must start with postgres://, postgresql:// or jdbc:postgresql:");
        }
        String rest = url.substring(afterScheme);
        int queryAt = rest.indexOf('?');
        String query = queryAt < 0 ? "" : rest.substring(queryAt + 1);
        String beforeQuery = queryAt < 0 ? rest : rest.substring(0, queryAt);
        int slash = beforeQuery.indexOf('/');
        String authority = slash < 0 ? beforeQuery : beforeQuery.substring(0, slash);
        String database = slash < 0 ? "" : decode(beforeQuery.substring(slash + 1), "database name");
        // The user info ends at the last '@', so a password with a raw '@' still works (libpq needs it as %40).
        int at = authority.lastIndexOf('@');
        String userInfo = at < 0 ? "" : authority.substring(0, at);
        int colon = userInfo.indexOf(':');
        String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon), "user");
        String password = colon < 0 ? "" : decode(userInfo.substring(colon + 1), "password");
        StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(hosts(authority.substring(at + 1)))
                .append('/').append(encode(database));
        List<String> parameters = new ArrayList<>();
        for (String pair : query.isEmpty() ? new String[0] : query.split("&")) {
            if (pair.isEmpty()) continue;
            int equals = pair.indexOf('=');
            String key = decode(equals < 0 ? pair : pair.substring(0, equals), "query parameter name");
            String value = decode(equals < 0 ? "" : pair.substring(equals + 1), "value of query parameter " + key);
            switch (key) {
                case "user" -> user = value;
                case "password" -> password = value;
                case "dbname" -> throw new IllegalArgumentException("the database URL names its database in the path, not with dbname=");
                default -> parameters.add(RENAMED.getOrDefault(key, key) + "=" + encode(value));
            }
        }
        if (!parameters.isEmpty()) jdbc.append('?').append(String.join("&", parameters));
        return new Jdbc(jdbc.toString(), user, password);
    }

    /** {@code host[:port][,host[:port]...]} with the default host and port filled in. */
    private static String hosts(String hostList) {
        List<String> hosts = new ArrayList<>();
        for (String hostPort : hostList.split(",", -1)) hosts.add(hostAndPort(hostPort));
        return String.join(",", hosts);
    }

    private static String hostAndPort(String hostPort) {
        String host;
        String port;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf(']');
            if (close < 0) throw new IllegalArgumentException("the database URL has an IPv6 host without its closing ']'");
            host = hostPort.substring(0, close + 1);
            String after = hostPort.substring(close + 1);
            if (!after.isEmpty() && !after.startsWith(":")) {
                throw new IllegalArgumentException("the database URL has text after an IPv6 host that is not a port");
            }
            port = after.isEmpty() ? "" : after.substring(1);
        } else {
            int colon = hostPort.indexOf(':');
            host = decode(colon < 0 ? hostPort : hostPort.substring(0, colon), "host");
            port = colon < 0 ? "" : hostPort.substring(colon + 1);
            if (host.startsWith("/")) {
                throw new IllegalArgumentException("the database URL names a Unix-domain socket; the JDBC driver connects over TCP only");
            }
            if (host.contains(":") || host.contains("/")) {
                throw new IllegalArgumentException("the database URL has a host that is not a name or an address (IPv6 needs [brackets])");
            }
        }
        if (host.isEmpty()) host = "localhost";
        return host + ":" + port(port);
    }

    private static int port(String text) {
        if (text.isEmpty()) return DEFAULT_PORT;
        if (!text.matches("[0-9]{1,5}") || Integer.parseInt(text) < 1 || Integer.parseInt(text) > 65535) {
            throw new IllegalArgumentException("the database URL's port must be a number from 1 to 65535");
        }
        return Integer.parseInt(text);
    }

    /** RFC 3986 percent-decoding as UTF-8 ({@code +} is not a space); {@code what} names the part in errors. */
    static String decode(String text, String what) {
        if (text.indexOf('%') < 0) return text;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(text.length());
        int plainFrom = 0;
        for (int i = text.indexOf('%'); i >= 0; i = text.indexOf('%', plainFrom)) {
            bytes.writeBytes(text.substring(plainFrom, i).getBytes(StandardCharsets.UTF_8));
            int high = i + 2 < text.length() ? Character.digit(text.charAt(i + 1), 16) : -1;
            int low = high < 0 ? -1 : Character.digit(text.charAt(i + 2), 16);
            if (low < 0) throw new IllegalArgumentException("the database URL's " + what + " has a '%' not followed by two hex digits");
            bytes.write(high * 16 + low);
            plainFrom = i + 3;
        }
        bytes.writeBytes(text.substring(plainFrom).getBytes(StandardCharsets.UTF_8));
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the database URL's " + what + " is not UTF-8 once percent-decoded");
        }
    }

    /** The driver decodes the database name and parameter values with {@code URLDecoder} (UTF-8): encode to match. */
    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
