package org.mllpserver.config;

import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.intake.Intake;
import org.mllpserver.journal.Journal;
import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.mllp.MllpListener;

import java.time.Duration;

/** The whole configuration, validated: each package's settings, built from the environment. */
public record ServerConfig(
        ListenAddress listenAddress,
        MllpListener.Limits limits,
        long maxInflightBytes,
        java.util.Optional<ListenAddress> adminAddress,
        Duration drainTimeout,
        MessageReader.Settings reader,
        AckWriter.Settings acks,
        Intake.Settings intake,
        Journal.Settings journal,
        Duration dedupWindow,
        long dedupMaxEntries,
        Duration checkpointInterval,
        Routing routing,
        java.util.Optional<TlsSettings> tls,
        LogSettings logging) {
}
