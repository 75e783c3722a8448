package org.mllpserver.config;

import org.mllpserver.hl7.AckWriter;
import org.mllpserver.hl7.MessageReader;
import org.mllpserver.intake.Intake;
import org.mllpserver.journal.Journal;
import org.mllpserver.mllp.ListenAddress;
import org.mllpserver.mllp.MllpListener;

import java.time.Duration;

/**
 * The whole configuration, parsed and validated: each package's settings, built from the
 * environment. Nothing here has been compiled or loaded from files yet ({@link Prepared} is that).
 *
 * @param dataDir DATA_DIR: the journal, cursors, checkpoint, control socket and audit trail live under it
 */
public record ServerConfig(
        java.nio.file.Path dataDir,
        ListenAddress listenAddress,
        MllpListener.Limits limits,
        long maxInflightBytes,
        java.util.Optional<ListenAddress> adminAddress,
        java.util.Optional<String> adminToken,
        int logBufferLines,
        Duration drainTimeout,
        MessageReader.Settings reader,
        AckWriter.Settings acks,
        Intake.Settings intake,
        Journal.Settings journal,
        Duration dedupWindow,
        long dedupMaxEntries,
        Duration checkpointInterval,
        Duration auditRetention,
        Routing routing,
        org.mllpserver.rules.RuleSet.Limits ruleLimits,
        java.util.Optional<TlsSettings> tls,
        LogSettings logging,
        org.mllpserver.telemetry.TelemetrySettings telemetry) {
}
