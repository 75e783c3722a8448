package org.mllpserver.app;

import org.mllpserver.delivery.Connector;
import org.mllpserver.delivery.ConnectorSettings;
import org.mllpserver.delivery.MllpConnector;

/** Builds the connector for a connector's settings. */
final class Connectors {

    private Connectors() {}

    static Connector create(String name, ConnectorSettings settings) throws Exception {
        return switch (settings) {
            case ConnectorSettings.Mllp mllp -> new MllpConnector(name, mllp);
            case ConnectorSettings.Http http -> throw new UnsupportedOperationException("http connector: not merged yet");
            case ConnectorSettings.Postgres postgres -> throw new UnsupportedOperationException("postgres connector: not merged yet");
            case ConnectorSettings.File file -> throw new UnsupportedOperationException("file connector: not merged yet");
        };
    }
}
