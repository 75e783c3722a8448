package org.mllpserver.delivery;

import org.mllpserver.journal.StoredMessage;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Delivers each record with one HTTP POST to the configured url.
 *
 * <p><b>What it sends.</b> In {@code RAW} format the body is the message's bytes exactly as
 * stored, {@code Content-Type: x-application/hl7-v2+er7; charset=<the record's charset>}; in
 * {@code JSON} format it is a {@link JsonEnvelope}, {@code Content-Type: application/json}. Every
 * request carries {@code Idempotency-Key: <record id>} (a delivery is at least once: a downstream
 * drops a repeat by this key) and the configured headers; a configured {@code Content-Type} or
 * {@code Idempotency-Key} is replaced by ours. The response body is read and dropped.
 *
 * <p><b>Connection.</b> HTTP/1.1, kept alive between deliveries. https trusts the system's trust
 * store, or exactly the certificates of {@code caFile} when set; host names are verified.
 * Redirects are not followed: a 301, 302 or 303 would turn the POST into a GET without the
 * message, and a 307 or 308 would send the message and its Authorization header to a host the
 * operator did not configure. A 3xx is undeliverable, naming the status: configure the final url.
 *
 * <p><b>Timeouts.</b> {@code connectTimeout} for establishing the connection;
 * {@code requestTimeout} from the start of the attempt until the response's status line and
 * headers have arrived (the JDK's {@link HttpRequest#timeout}). The JDK does not time the
 * response body, so the whole attempt, body included, has a deadline of
 * {@value #DEADLINE_FACTOR} × {@code requestTimeout}; past it the exchange is cancelled.
 *
 * <p><b>Outcomes</b> (decided in {@link #classify}):
 * <table>
 * <tr><th>result</th><th>outcome</th></tr>
 * <tr><td>2xx</td><td>delivered</td></tr>
 * <tr><td>408, 429, 5xx</td><td>retryable</td></tr>
 * <tr><td>3xx, other 4xx, other statuses</td><td>undeliverable</td></tr>
 * <tr><td>connect or request timeout, deadline, refused connection, TLS failure (untrusted
 *     certificate included), other I/O error</td><td>retryable</td></tr>
 * <tr><td>a record that cannot be encoded (its charset unknown to this JVM)</td><td>undeliverable</td></tr>
 * </table>
 * Reasons name the status or the exception classes and the downstream's scheme, host and port:
 * never the url's path or query (they may hold a token), a header value or message content.
 *
 * <p><b>Threading.</b> One dispatcher thread calls {@link #deliver} at a time; {@link #close} may
 * come from another thread and cancels an attempt in flight.
 */
public final class HttpConnector implements Connector {

    /** The whole attempt may take this many request timeouts: one to the response headers, the rest for the body. */
    static final int DEADLINE_FACTOR = 2;
    /** Causes named in a reason; a JDK TLS failure is three deep ("SSLHandshakeException: ValidatorException: ..."). */
    private static final int CAUSES_NAMED_MAX = 4;

    private final String name;
    private final ConnectorSettings.Http settings;
    /** {@code scheme://host:port}: the only part of the url a reason names. */
    private final String downstream;
    private final Duration deadline;
    /** The url, the request timeout and the configured headers, checked once here; copied per request. */
    private final HttpRequest.Builder template;
    private final HttpClient client;

    /**
     * @throws IOException              the CA file cannot be read (the message names the file and why)
     * @throws GeneralSecurityException the CA file holds no usable certificate
     * @throws IllegalArgumentException a configured header has a restricted or invalid name or value
     *                                  (the message names the header, never its value)
     */
    public HttpConnector(String name, ConnectorSettings.Http settings) throws IOException, GeneralSecurityException {
        this.name = name;
        this.settings = settings;
        this.downstream = downstream(settings.url());
        this.deadline = settings.requestTimeout().multipliedBy(DEADLINE_FACTOR);
        this.template = template(name, settings);
        this.client = client(name, settings);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Outcome deliver(Delivery delivery) throws InterruptedException {
        return classify(attempt(delivery.message()));
    }

    /** The result of one attempt, before it is judged: a status, or why no status came. */
    sealed interface Attempt {
        record Answered(int status) implements Attempt {}

        record Failed(Throwable cause) implements Attempt {}
    }

    /** The one place an attempt becomes an {@link Outcome}; the first matching row wins. */
    Outcome classify(Attempt attempt) {
        return switch (attempt) {
            // The downstream has it.
            case Attempt.Answered(int status) when status >= 200 && status < 300 -> Outcome.DELIVERED;
            // 408 Request Timeout and 429 Too Many Requests: the downstream itself asks to be tried again later.
            case Attempt.Answered(int status) when status == 408 || status == 429 ->
                    new Outcome.Retryable("HTTP " + status + " from " + downstream + ": try again later");
            // 5xx: the downstream failed, not the request; it may recover (a restart, a database back).
            case Attempt.Answered(int status) when status >= 500 && status < 600 ->
                    new Outcome.Retryable("HTTP " + status + " from " + downstream);
            // 3xx: redirects are not followed (see the class comment), and the same request gets the same answer.
            case Attempt.Answered(int status) when status >= 300 && status < 400 ->
                    new Outcome.Undeliverable("HTTP " + status + " from " + downstream + ": redirects are not followed; configure the final url");
            // Other 4xx (and anything outside the standard ranges): the downstream refuses this request as sent; sending it again changes nothing.
            case Attempt.Answered(int status) -> new Outcome.Undeliverable("HTTP " + status + " from " + downstream);
            // No connection within connectTimeout: the host is down or unreachable for now.
            case Attempt.Failed(HttpConnectTimeoutException e) ->
                    new Outcome.Retryable("connect timed out after " + ms(settings.connectTimeout()) + " (" + causes(e) + ") to " + downstream);
            // No response headers within requestTimeout: the downstream is slow or stuck, perhaps only now.
            case Attempt.Failed(HttpTimeoutException e) ->
                    new Outcome.Retryable("timed out: no response within " + ms(settings.requestTimeout()) + " (" + causes(e) + ") from " + downstream);
            // Headers came but the body did not finish before the attempt's deadline: as above.
            case Attempt.Failed(TimeoutException e) ->
                    new Outcome.Retryable("timed out: response not complete within the deadline " + ms(deadline) + " from " + downstream);
            // Refused: nothing listens there now (a restart, a deployment).
            case Attempt.Failed(ConnectException e) -> new Outcome.Retryable("cannot connect (" + causes(e) + ") to " + downstream);
            // TLS failed, an untrusted certificate included: a configuration an operator fixes (the caFile, the
            // downstream's certificate), after which every waiting record should go; dead-lettering them all would not help.
            case Attempt.Failed(SSLException e) ->
                    new Outcome.Retryable("TLS failed (" + causes(e) + ") with " + downstream + ": is its certificate trusted (caFile) and valid for the host?");
            // Any other network failure (reset, closed connection, protocol error): may work on a new connection.
            case Attempt.Failed(IOException e) -> new Outcome.Retryable("I/O error (" + causes(e) + ") with " + downstream);
            // The request could not be built for this record (a charset this JVM does not know): the same every time.
            case Attempt.Failed(IllegalArgumentException e) ->
                    new Outcome.Undeliverable("the record cannot be encoded for " + downstream + " (" + causes(e) + ")");
            // Nothing the downstream did: retried, so the record is kept and the reason is seen, and dead-lettered after the attempts.
            case Attempt.Failed(Throwable e) -> new Outcome.Retryable("unexpected failure (" + causes(e) + ") with " + downstream);
        };
    }

    private Attempt attempt(StoredMessage message) throws InterruptedException {
        CompletableFuture<HttpResponse<Void>> response = null;
        try {
            response = client.sendAsync(request(message), BodyHandlers.discarding());
            return new Attempt.Answered(response.get(deadline.toNanos(), TimeUnit.NANOSECONDS).statusCode());
        } catch (ExecutionException e) {
            return new Attempt.Failed(unwrap(e.getCause()));
        } catch (TimeoutException | RuntimeException e) { // RuntimeException: the request cannot be built for this record
            return new Attempt.Failed(e);
        } finally {
            // Ends an exchange cut short by the deadline or an interrupt (the JDK closes its connection); no-op when complete.
            if (response != null) response.cancel(true);
        }
    }

    HttpRequest request(StoredMessage message) {
        HttpRequest.Builder request = template.copy().setHeader("Idempotency-Key", message.id().toString());
        return switch (settings.format()) {
            case RAW -> request.setHeader("Content-Type", "x-application/hl7-v2+er7; charset=" + message.charset())
                    .POST(BodyPublishers.ofByteArray(message.raw())).build();
            case JSON -> request.setHeader("Content-Type", "application/json")
                    .POST(BodyPublishers.ofByteArray(JsonEnvelope.of(message))).build();
        };
    }

    @Override
    public void close() {
        client.shutdownNow();
    }

    private static HttpRequest.Builder template(String name, ConnectorSettings.Http settings) {
        HttpRequest.Builder template = HttpRequest.newBuilder(settings.url()).timeout(settings.requestTimeout());
        for (Map.Entry<String, String> header : settings.headers().entrySet()) {
            try {
                template.header(header.getKey(), header.getValue());
            } catch (IllegalArgumentException e) { // not chained: the JDK's message quotes the value, which may be a secret
                throw new IllegalArgumentException("connector " + name + ": header " + header.getKey()
                        + " cannot be sent: a restricted or invalid name, or an invalid value (not shown)");
            }
        }
        return template;
    }

    private static HttpClient client(String name, ConnectorSettings.Http settings) throws IOException, GeneralSecurityException {
        HttpClient.Builder client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1) // one request at a time needs no HTTP/2, and plain http would try an h2c upgrade
                .connectTimeout(settings.connectTimeout())
                .followRedirects(HttpClient.Redirect.NEVER);
        if (settings.caFile().isPresent()) {
            try {
                client.sslContext(PemTrust.sslContext(settings.caFile().get()));
            } catch (IOException e) {
                throw new IOException("connector " + name + ": " + e.getMessage(), e);
            } catch (GeneralSecurityException e) {
                throw new GeneralSecurityException("connector " + name + ": " + e.getMessage(), e);
            }
        }
        return client.build();
    }

    private static String downstream(URI url) {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() == -1 ? "" : ":" + url.getPort());
    }

    /** As the configuration writes durations. */
    private static String ms(Duration d) {
        return d.toMillis() + "ms";
    }

    private static Throwable unwrap(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    /** The simple class names of {@code e} and its causes: what failed, without messages that might quote data. */
    static String causes(Throwable e) {
        Set<String> names = new LinkedHashSet<>();
        Throwable t = e;
        for (int i = 0; i < CAUSES_NAMED_MAX && t != null; i++, t = t.getCause()) names.add(t.getClass().getSimpleName());
        return String.join(": ", names);
    }
}
