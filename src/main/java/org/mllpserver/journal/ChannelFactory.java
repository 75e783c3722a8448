package org.mllpserver.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;

/** Opens the journal's files; tests pass one that injects faults a real disk cannot be made to produce. */
@FunctionalInterface
public interface ChannelFactory {

    ChannelFactory DEFAULT = FileChannel::open;

    FileChannel open(Path path, OpenOption... options) throws IOException;
}
