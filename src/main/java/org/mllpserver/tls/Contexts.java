package org.mllpserver.tls;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * JSSE key and trust managers from loaded certificates and keys, through in-memory key stores
 * that never touch the disk. The JDK's own managers do the choosing and the path validation.
 * Stateless; thread-safe.
 */
final class Contexts {

    /**
     * A PKCS#12 store insists on a password for its key entries. This store lives only in memory
     * and only long enough to build the key manager, so the password protects nothing and is no secret.
     */
    private static final char[] IN_MEMORY_PASSWORD = "in-memory-only".toCharArray();
    private static final String ALIAS = "identity";

    private Contexts() {}

    /** Presents {@code chain} (leaf first) with {@code key}. */
    static KeyManager[] keyManagers(List<X509Certificate> chain, PrivateKey key) throws GeneralSecurityException {
        KeyStore store = emptyStore();
        store.setKeyEntry(ALIAS, key, IN_MEMORY_PASSWORD, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, IN_MEMORY_PASSWORD);
        return factory.getKeyManagers();
    }

    /** Trusts exactly {@code anchors}: not the system's trust store, nothing else. */
    static TrustManager[] trustManagers(List<X509Certificate> anchors) throws GeneralSecurityException {
        KeyStore store = emptyStore();
        for (int i = 0; i < anchors.size(); i++) store.setCertificateEntry("anchor-" + i, anchors.get(i));
        TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
        factory.init(store);
        return factory.getTrustManagers();
    }

    /** A "TLS" context; null managers mean the JDK's defaults (no key; the system trust store). */
    static SSLContext tls(KeyManager[] keys, TrustManager[] trust) throws GeneralSecurityException {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys, trust, null);
        return context;
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (IOException e) {
            throw new IllegalStateException("an empty in-memory key store cannot fail to load", e);
        }
        return store;
    }
}
