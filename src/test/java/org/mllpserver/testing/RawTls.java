package org.mllpserver.testing;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;

/** Just enough of the TLS record layer to send a ClientHello no JDK client would send, and read the alert. */
public final class RawTls {
    public static final int TLS_1_1 = 0x0302;
    public static final int PROTOCOL_VERSION = 70;
    /** Content type, version (2), length (2), level, description. */
    public static final int ALERT_RECORD_BYTES = 7;
    private static final int FATAL = 2;
    private static final int ALERT = 21;
    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;

    /** A ClientHello offering only {@code version}, with two CBC suites TLS 1.1 had; random all zero. */
    public static byte[] clientHello(int version) {
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(version >> 8);
        body.write(version);
        body.writeBytes(new byte[32]); // client random
        body.write(0); // no session id
        body.writeBytes(new byte[] {0, 4, (byte) 0xc0, 0x13, 0x00, 0x2f}); // ECDHE_RSA_AES_128_CBC_SHA, RSA_AES_128_CBC_SHA
        body.writeBytes(new byte[] {1, 0}); // compression: null only
        byte[] hello = body.toByteArray();
        ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.writeBytes(new byte[] {HANDSHAKE, 3, 1, 0, (byte) (hello.length + 4)});
        record.writeBytes(new byte[] {CLIENT_HELLO, 0, 0, (byte) hello.length});
        record.writeBytes(hello);
        return record.toByteArray();
    }

    public static String fatalAlert(int description) {
        return "alert " + FATAL + "/" + description;
    }

    /** "alert LEVEL/DESCRIPTION", or what else the bytes are. */
    public static String alertOf(byte[] record) {
        if (record.length < ALERT_RECORD_BYTES || record[0] != ALERT) return "not an alert record: " + hex(record);
        return "alert " + record[5] + "/" + record[6];
    }

    public static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }

    private RawTls() {}
}
