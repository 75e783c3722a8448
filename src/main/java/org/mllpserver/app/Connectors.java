package org.mllpserver.app;

import org.mllpserver.delivery.Connector;
import org.mllpserver.delivery.ConnectorSettings;
import org.mllpserver.delivery.FileConnector;
import org.mllpserver.delivery.HttpConnector;
import org.mllpserver.delivery.MllpConnector;
import org.mllpserver.delivery.PostgresConnector;

/** Builds the connector for a connector's settings. */
final class Connectors {

    private Connectors() {}

    static Connector create(String name, ConnectorSettings settings) throws Exception {
        return switch (settings) {
            case ConnectorSettings.Mllp mllp -> new MllpConnector(name, mllp);
            case ConnectorSettings.Http http -> new HttpConnector(name, http);
            case ConnectorSettings.Postgres postgres -> new PostgresConnector(name, postgres);
            case ConnectorSettings.File file -> new FileConnector(name, file);
        };
    }
}
