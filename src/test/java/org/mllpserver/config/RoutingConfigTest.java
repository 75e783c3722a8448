package org.mllpserver.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Connectors and rules from the YAML file and the environment: one model, every problem listed. */
public class RoutingConfigTest {

    /** The seed product's example, verbatim. */
    public static final String SEED_YAML = """
            connectors:
              - name: ehr-ingest
                type: http
                url: https://ehr.example.com/hl7
                filter: msh.msg_type == "ADT"
              - name: lab-archive
                type: postgres
                filter: msh.msg_type == "ORU"
            validation:
              rules:
                - name: require-patient-id
                  expression: pid.id != ""
            """;

    @TempDir
    Path dir;

    private ServerConfig load(String yaml, String... env) throws IOException, ConfigException {
        Map<String, String> vars = new HashMap<>();
        if (yaml != null) {
            Path file = dir.resolve("mllp.yaml");
            Files.writeString(file, yaml);
            vars.put("CONFIG_FILE", file.toString());
        }
        for (int i = 0; i < env.length; i += 2) vars.put(env[i], env[i + 1]);
        return ConfigLoader.load(vars).config();
    }

    private Prepared prepared(String yaml, String... env) throws Exception {
        Map<String, String> vars = new HashMap<>();
        if (yaml != null) {
            Path file = dir.resolve("mllp-prepared.yaml");
            Files.writeString(file, yaml);
            vars.put("CONFIG_FILE", file.toString());
        }
        for (int i = 0; i < env.length; i += 2) vars.put(env[i], env[i + 1]);
        return ConfigLoader.load(vars);
    }

    private List<String> problems(String yaml, String... env) {
        return assertThrows(ConfigException.class, () -> load(yaml, env)).problems();
    }

    @Test
    void theSeedProductsYamlLoadsVerbatim() throws Exception {
        Routing routing = load(SEED_YAML).routing();
        assertEquals(List.of("ehr-ingest", "lab-archive"), routing.connectors().stream().map(Routing.Connector::name).toList());
        Routing.Connector ehr = routing.connectors().getFirst();
        assertEquals(Routing.Type.HTTP, ehr.type());
        assertEquals("https://ehr.example.com/hl7", ehr.keys().get("url"));
        assertEquals("msh.msg_type == \"ADT\"", ehr.filter());
        assertEquals(Routing.Type.POSTGRES, routing.connectors().get(1).type());
        assertEquals(List.of("require-patient-id"), routing.rules().stream().map(r -> r.name()).toList());
        assertEquals(1, prepared(SEED_YAML).rules().ruleCount());
        assertEquals(2, prepared(SEED_YAML).rules().filterCount());
    }

    @Test
    void theEnvironmentDescribesTheSameModelAndWinsKeyByKey() throws Exception {
        Routing routing = load(SEED_YAML,
                "CONNECTOR_LAB_ARCHIVE_FILTER", "msh.msg_type == \"ORU\" && msh.trigger == \"R01\"",
                "CONNECTOR_ARCHIVE_TYPE", "file", "CONNECTOR_ARCHIVE_DIRECTORY", "/var/lib/hl7",
                "VALIDATION_RULE_REQUIRE_PATIENT_ID", "pid.id != \"\" && pid.family_name != \"\"",
                "VALIDATION_RULE_KNOWN_VERSION", "msh.version.startsWith(\"2.\")").routing();
        assertEquals(List.of("ehr-ingest", "lab-archive", "archive"), routing.connectors().stream().map(Routing.Connector::name).toList());
        assertEquals("msh.msg_type == \"ORU\" && msh.trigger == \"R01\"", routing.connectors().get(1).filter());
        assertEquals(Routing.Type.POSTGRES, routing.connectors().get(1).type(), "the file's type stays");
        assertEquals("", routing.connectors().get(2).filter(), "no filter: every message");
        assertEquals("pid.id != \"\" && pid.family_name != \"\"", routing.rules().getFirst().expression());
        assertEquals("known-version", routing.rules().get(1).name());
    }

    @Test
    void aBlankVariableDoesNotClearTheFilesValueAndNamesAreCanonical() throws Exception {
        Routing routing = load(SEED_YAML.replace("name: lab-archive", "name: Lab_Archive"), "CONNECTOR_LAB_ARCHIVE_FILTER", "  ").routing();
        assertEquals("msh.msg_type == \"ORU\"", routing.connectors().get(1).filter(), "blank = unset: the file's filter stays");
        assertEquals("lab-archive", routing.connectors().get(1).name(), "one identity however it is spelled");
    }

    @Test
    void withoutAnyConfigurationThereAreNoRulesAndNoConnectors() throws Exception {
        Routing routing = load(null).routing();
        assertEquals(List.of(), routing.connectors());
        assertEquals(0, prepared(null).rules().ruleCount());
    }

    @Test
    void everyProblemInTheFileAndTheEnvironmentIsListedAtOnce() {
        List<String> problems = problems("""
                connectors:
                  - name: ehr-ingest
                    type: http
                    url: https://ehr.example.com/hl7
                    filtr: msh.msg_type == "ADT"
                  - name: ehr_ingest
                    type: http
                    url: https://other.example.com
                  - name: lab
                    type: carrier-pigeon
                  - name: out
                    type: file
                  - name: web
                    type: http
                    url: ftp://example.com
                validation:
                  rules:
                    - name: bad
                      expression: pid.idd != ""
                    - name: also-bad
                      expression: msh.msg_type ==
                  extra: 1
                """, "CONNECTOR_X_COLOUR", "red", "MAX_RULE_COST", "5");
        String all = String.join("\n", problems);
        for (String expected : List.of("mllp.yaml:5:5: unknown key \"filtr\" in a connector",
                "mllp.yaml:6:11: connector name \"ehr_ingest\" is used twice (as \"ehr-ingest\"",
                "connector lab: type \"carrier-pigeon\" is unknown", "connector out: a file connector needs a directory",
                "connector web: url \"ftp://example.com\" must be http or https", "unknown key \"extra\" in validation",
                "CONNECTOR_X_COLOUR: not a connector setting")) {
            assertTrue(all.contains(expected), "missing \"" + expected + "\" in:\n" + all);
        }
    }

    @Test
    void expressionsThatDoNotCompileAreListedWithTheirPlace() {
        String all = String.join("\n", problems("""
                connectors:
                  - name: lab
                    type: postgres
                    filter: msh.msg_typ == "ORU"
                validation:
                  rules:
                    - name: bad
                      expression: pid.idd != ""
                    - name: costly
                      expression: obx_list.all(a, obx_list.all(b, a.code != b.code || a.set_id == b.set_id))
                """));
        assertTrue(all.contains("rule bad:1:4: undefined field 'idd'"), all);
        assertTrue(all.contains("filter of connector lab:1:4: undefined field 'msg_typ'"), all);
        assertTrue(all.contains("rule costly: estimated cost"), all);
    }

    @Test
    void aMissingOrBrokenFileIsAProblemNotACrash() {
        Map<String, String> env = Map.of("CONFIG_FILE", dir.resolve("nope.yaml").toString());
        assertTrue(assertThrows(ConfigException.class, () -> ConfigLoader.load(env)).getMessage().contains("cannot be read"));
        assertTrue(String.join("\n", problems("connectors: [unclosed")).contains("not valid YAML"));
        assertTrue(String.join("\n", problems("connectors:\n  - name: a\n    name: b\n    type: file\n")).contains("twice"));
    }
}
