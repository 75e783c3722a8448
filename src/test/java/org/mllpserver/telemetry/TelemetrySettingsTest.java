package org.mllpserver.telemetry;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link TelemetrySettings#fromEnvironment}: the OpenTelemetry variables, their rules, and every problem at once. */
class TelemetrySettingsTest {

    @Test
    void nothingSetMeansNoExportAndTheDefaults() {
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of());
        assertEquals(Optional.empty(), settings.metricsEndpoint());
        assertEquals(Map.of(), settings.headers());
        assertEquals(Duration.ofSeconds(60), settings.exportInterval());
        assertEquals("mllp-server", settings.serviceName());
        assertEquals(Map.of(), settings.resourceAttributes());
    }

    @Test
    void emptyValuesCountAsUnset() {
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "",
                "OTEL_METRIC_EXPORT_INTERVAL", " ", "OTEL_SERVICE_NAME", "", "OTEL_EXPORTER_OTLP_PROTOCOL", ""));
        assertEquals(TelemetrySettings.defaults(), settings);
    }

    @Test
    void theBaseEndpointGetsTheMetricsPath() {
        assertEquals("http://collector:4318/v1/metrics", endpoint(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")));
        assertEquals("http://collector:4318/v1/metrics", endpoint(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/")));
        assertEquals("https://otlp.example/api/v1/metrics", endpoint(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example/api")));
        assertEquals("https://otlp.example/api/v1/metrics?tenant=a", endpoint(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example/api/?tenant=a")));
    }

    @Test
    void theMetricsEndpointWinsAndIsUsedAsItIs() {
        assertEquals("http://metrics:9000/ingest", endpoint(Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:9000/ingest",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")));
        assertEquals("http://metrics:9000/ingest", endpoint(Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://metrics:9000/ingest",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")), "the base endpoint is not used, so not judged");
    }

    private static String endpoint(Map<String, String> env) {
        return TelemetrySettings.fromEnvironment(env).metricsEndpoint().map(URI::toString).orElse("none");
    }

    @Test
    void headersAreKeyValueListsWithPercentDecodedValues() {
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_HEADERS",
                " api-key = abc%3D%3D , Authorization=Basic%20dXNlcjpwYXNz,x-plus=a+b,"));
        assertEquals(Map.of("api-key", "abc==", "Authorization", "Basic dXNlcjpwYXNz", "x-plus", "a+b"), settings.headers());
    }

    @Test
    void headerValuesNeverAppearInTextOrProblems() {
        TelemetrySettings settings = TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret"));
        assertFalse(settings.toString().contains("s3cret"), settings.toString());
        assertTrue(settings.toString().contains("api-key=<hidden>"));
        var e = assertThrows(TelemetrySettings.Invalid.class, () -> TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_HEADERS", "api-key=s3cret%zz,host=s3cret,x=s3cret%0D%0Ainjected")));
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
        assertEquals(3, e.problems().size(), e.getMessage());
    }

    @Test
    void resourceAttributesAndServiceName() {
        TelemetrySettings fromAttributes = TelemetrySettings.fromEnvironment(Map.of("OTEL_RESOURCE_ATTRIBUTES",
                "service.name=lab-gw,deployment.environment=prod,site=St%20Mary%27s"));
        assertEquals("lab-gw", fromAttributes.serviceName());
        assertEquals(Map.of("deployment.environment", "prod", "site", "St Mary's"), fromAttributes.resourceAttributes());
        TelemetrySettings named = TelemetrySettings.fromEnvironment(Map.of("OTEL_RESOURCE_ATTRIBUTES", "service.name=lab-gw",
                "OTEL_SERVICE_NAME", "mllp-east"));
        assertEquals("mllp-east", named.serviceName(), "OTEL_SERVICE_NAME wins");
    }

    @Test
    void theIntervalIsMilliseconds() {
        assertEquals(Duration.ofMillis(200), TelemetrySettings.fromEnvironment(Map.of("OTEL_METRIC_EXPORT_INTERVAL", "200")).exportInterval());
    }

    @Test
    void onlyHttpProtobufIsAProtocol() {
        var grpc = assertThrows(TelemetrySettings.Invalid.class,
                () -> TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")));
        assertEquals(List.of("OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported: metrics are exported with OTLP over HTTP "
                + "as protobuf only (set it to http/protobuf or leave it unset)"), grpc.problems());
        var json = assertThrows(TelemetrySettings.Invalid.class,
                () -> TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/json")));
        assertTrue(json.getMessage().startsWith("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL='http/json' is not supported"), json.getMessage());
        // The metrics variable overrides the general one (which other signals of other programs may use).
        TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", "http/protobuf"));
        TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"));
    }

    @Test
    void everyBadValueIsListedAtOnce() {
        var e = assertThrows(TelemetrySettings.Invalid.class, () -> TelemetrySettings.fromEnvironment(Map.of(
                "OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318",
                "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc",
                "OTEL_EXPORTER_OTLP_HEADERS", "good=1,novalue,=empty,bad name=x,dup=1,DUP=2",
                "OTEL_METRIC_EXPORT_INTERVAL", "1m",
                "OTEL_RESOURCE_ATTRIBUTES", "ok=1,broken=%4")));
        assertEquals(List.of(
                "OTEL_EXPORTER_OTLP_PROTOCOL='grpc' is not supported: metrics are exported with OTLP over HTTP as protobuf only "
                        + "(set it to http/protobuf or leave it unset)",
                "OTEL_EXPORTER_OTLP_ENDPOINT='collector:4318' is not an http:// or https:// URL with a host",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 2 has no '=' (expected key=value,key=value)",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 3 has an empty key",
                "OTEL_EXPORTER_OTLP_HEADERS: entry 6: 'DUP' is given twice",
                "OTEL_EXPORTER_OTLP_HEADERS: 'bad name' is not a valid HTTP header name",
                "OTEL_METRIC_EXPORT_INTERVAL='1m' is not a whole number of milliseconds",
                "OTEL_RESOURCE_ATTRIBUTES: entry 2 ('broken'): the value has a '%' not followed by two hex digits"), e.problems());
        assertEquals(String.join("\n", e.problems()), e.getMessage());
        assertTrue(e instanceof IllegalArgumentException);
    }

    @Test
    void theIntervalHasLimits() {
        for (String tooFar : List.of("0", "99", "-5", "300001")) {
            var e = assertThrows(TelemetrySettings.Invalid.class,
                    () -> TelemetrySettings.fromEnvironment(Map.of("OTEL_METRIC_EXPORT_INTERVAL", tooFar)));
            assertEquals(List.of("OTEL_METRIC_EXPORT_INTERVAL='" + tooFar + "' is out of range (100 to 300000 ms)"), e.problems());
        }
    }

    @Test
    void endpointsMustBeHttpUrlsWithAHost() {
        for (String bad : List.of("ftp://collector/", "http://", "http:///v1/metrics", "just words", "localhost:4318")) {
            var e = assertThrows(TelemetrySettings.Invalid.class,
                    () -> TelemetrySettings.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", bad)));
            assertEquals(1, e.problems().size(), bad);
        }
    }
}
