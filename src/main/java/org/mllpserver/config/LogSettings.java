package org.mllpserver.config;

/** How the server logs: the threshold, and whether message text may appear (patient data). */
public record LogSettings(System.Logger.Level level, boolean payloads) {}
