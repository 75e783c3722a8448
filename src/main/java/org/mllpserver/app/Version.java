package org.mllpserver.app;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The server's version, as the build stamped it (the project's version in the pom). */
final class Version {

    private Version() {
    }

    static String current() {
        try (InputStream in = Version.class.getResourceAsStream("/org/mllpserver/version.properties")) {
            if (in == null) return "unknown";
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
