package org.mllpserver.delivery;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * A connector's settings, validated by the configuration: one record per type. Secrets (header
 * values taken from the environment, the database password) are held here and never logged:
 * {@code toString} of the records that hold them hides them.
 */
public sealed interface ConnectorSettings {

    /** How an HTTP connector sends a message. */
    enum HttpFormat {
        /** The raw message as the body, {@code Content-Type: x-application/hl7-v2+er7}. */
        RAW,
        /**
         * A JSON envelope: {@code {"id", "received_at", "msg_type", "control_id", "sending_application",
         * "sending_facility", "charset", "message"}}.
         */
        JSON
    }

    /**
     * @param url            http or https
     * @param headers        extra request headers (e.g. Authorization, its value read from an environment variable)
     * @param caFile         PEM file of CA certificates to trust instead of the system's trust store
     */
    record Http(URI url, HttpFormat format, Map<String, String> headers, Duration connectTimeout, Duration requestTimeout,
                Optional<Path> caFile) implements ConnectorSettings {
        @Override
        public String toString() {
            return "Http[url=" + url + ", format=" + format + ", headers=" + headers.keySet() + ", connectTimeout=" + connectTimeout
                    + ", requestTimeout=" + requestTimeout + ", caFile=" + caFile + "]";
        }
    }

    /**
     * @param jdbcUrl  {@code jdbc:postgresql://host:port/database} (from the connector's url, DATABASE_URL or PGHOST/PGPORT/PGDATABASE)
     * @param user     may be empty (the driver's default)
     * @param password may be empty; never logged
     * @param table    created if missing
     * @param batchSize most records in one INSERT when a backlog exists
     */
    record Postgres(String jdbcUrl, String user, String password, String table, int batchSize, Duration connectTimeout)
            implements ConnectorSettings {
        @Override
        public String toString() {
            return "Postgres[jdbcUrl=" + jdbcUrl.replaceAll("(?i)((?:ssl)?password=)[^&]*", "$1***") + ", user=" + user + ", password=" + (password.isEmpty() ? "" : "***")
                    + ", table=" + table + ", batchSize=" + batchSize + ", connectTimeout=" + connectTimeout + "]";
        }
    }

    /**
     * @param tls      {@code mllps://}: TLS, the server's name checked against its certificate
     * @param caFile   CAs to trust instead of the system's trust store (TLS only)
     * @param certFile a client certificate to present, with {@code keyFile} (TLS only, for mutual TLS)
     */
    record Mllp(String host, int port, Duration connectTimeout, Duration ackTimeout, boolean tls, Optional<Path> caFile,
                Optional<Path> certFile, Optional<Path> keyFile) implements ConnectorSettings {

        /** Plain MLLP. */
        public Mllp(String host, int port, Duration connectTimeout, Duration ackTimeout) {
            this(host, port, connectTimeout, ackTimeout, false, Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    record File(Path directory) implements ConnectorSettings {}
}
