package org.mllpserver.config;

import org.mllpserver.rules.RuleSet;
import org.mllpserver.tls.TlsMaterial;

import java.util.Optional;

/**
 * A configuration ready for the server: parsed ({@link ServerConfig}), its rules and filters
 * compiled, its TLS files loaded and checked. Commands that only read the journal need only the
 * parse; {@link ConfigLoader#load} does both and reports every problem of both at once.
 *
 * @param rules       the validation rules and connector filters, compiled
 * @param tlsMaterial the certificate chain, key and client CA, when TLS is on
 */
public record Prepared(ServerConfig config, RuleSet rules, Optional<TlsMaterial> tlsMaterial) {
}
