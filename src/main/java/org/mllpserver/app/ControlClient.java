package org.mllpserver.app;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The command line's side of the {@link ControlServer} protocol: one request line out, lines back, the last {@code exit N}. */
final class ControlClient {

    private ControlClient() {}

    /** Sends {@code request}, copies the answer to {@code out} as it arrives, and returns the server's exit code. */
    static int request(Path socket, String[] request, PrintStream out) throws IOException {
        try (SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            channel.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer line = ByteBuffer.wrap((String.join("\t", request) + "\n").getBytes(StandardCharsets.UTF_8));
            while (line.hasRemaining()) channel.write(line);
            BufferedReader reader = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
            // Each line is printed once the next has come: the last one is the exit code, not output.
            String previous = null;
            for (String received; (received = reader.readLine()) != null; previous = received) {
                if (previous != null) {
                    out.println(previous);
                    out.flush();
                }
            }
            if (previous == null || !previous.startsWith("exit ")) throw new IOException("the server's answer was cut short");
            return Integer.parseInt(previous.substring(5).strip());
        }
    }
}
