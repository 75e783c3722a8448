package org.mllpserver.mllp;

import java.net.InetSocketAddress;

/**
 * Where a listener binds: {@code :2575} (every interface), {@code 127.0.0.1:2575},
 * {@code [::1]:2575} or {@code host:2575}. Port 0 asks the system for a free port.
 */
public record ListenAddress(String host, int port) {

    public ListenAddress {
        if (port < 0 || port > 65_535) throw new IllegalArgumentException("port " + port + " is out of range 0-65535");
    }

    /** Parses the forms above; the message of the exception says what is wrong. */
    public static ListenAddress parse(String text) {
        String value = text.strip();
        int colon = value.lastIndexOf(':');
        if (colon < 0) throw new IllegalArgumentException("'" + text + "' has no port (use :2575, 127.0.0.1:2575 or [::1]:2575)");
        String host = value.substring(0, colon);
        String port = value.substring(colon + 1);
        if (host.startsWith("[") != host.endsWith("]")) throw new IllegalArgumentException("'" + text + "' has an unclosed IPv6 bracket");
        if (host.startsWith("[")) host = host.substring(1, host.length() - 1);
        else if (host.contains(":")) throw new IllegalArgumentException("'" + text + "': write an IPv6 address in brackets, e.g. [::1]:2575");
        if (!port.matches("[0-9]{1,5}")) throw new IllegalArgumentException("'" + text + "' has no valid port number");
        return new ListenAddress(host, Integer.parseInt(port));
    }

    /** An unresolved-host-safe socket address; an empty host means every interface. */
    public InetSocketAddress toSocketAddress() {
        return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
