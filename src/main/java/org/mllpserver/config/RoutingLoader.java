package org.mllpserver.config;

import org.mllpserver.delivery.ConnectorSettings;
import org.mllpserver.delivery.RetryPolicy;
import org.mllpserver.rules.RuleSet;
import org.mllpserver.rules.RulesException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.Reader;
import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Reads connectors and validation rules from the environment and the optional YAML file named by
 * {@code CONFIG_FILE}, both describing the same model:
 *
 * <pre>
 *   CONNECTOR_&lt;NAME&gt;_&lt;KEY&gt;=value      e.g. CONNECTOR_LAB_ARCHIVE_FILTER=msh.msg_type == "ORU"
 *   VALIDATION_RULE_&lt;NAME&gt;=expression  e.g. VALIDATION_RULE_REQUIRE_PATIENT_ID=pid.id != ""
 * </pre>
 *
 * A name in the environment is the YAML name in upper case with {@code -} written as {@code _}
 * ({@code lab-archive} is {@code LAB_ARCHIVE}); every name is used in its canonical form, lower
 * case with {@code -}, so records, cursor files and logs name a connector the same way whichever
 * way it was configured. When both name the same connector or rule, the environment wins, key by
 * key: an operator can change one filter of a mounted file without editing it. A blank variable
 * counts as unset. Every problem (unknown keys, duplicates, missing settings, expressions that do not
 * compile) is collected, never only the first.
 */
public final class RoutingLoader {

    static final String CONNECTOR_PREFIX = "CONNECTOR_";
    static final String RULE_PREFIX = "VALIDATION_RULE_";
    /** A connector's settings, as YAML keys (CONNECTOR_<NAME>_<KEY> upper-cased in the environment). */
    public static final List<String> CONNECTOR_KEYS = List.of("name", "type", "filter", "url", "directory", "table", "format",
            "headers", "ca_file", "cert_file", "key_file", "connect_timeout", "request_timeout", "ack_timeout", "batch_size", "retry_initial",
            "retry_max_delay", "retry_max_attempts");
    private static final List<String> RETRY_KEYS = List.of("retry_initial", "retry_max_delay", "retry_max_attempts");
    private static final List<String> RULE_KEYS = List.of("name", "expression");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");

    private final List<String> problems;

    /** Connector settings by normalised name, in order; each map holds key → value. */
    private final Map<String, Map<String, String>> connectors = new LinkedHashMap<>();
    private final Map<String, String> connectorNames = new HashMap<>();
    private final Map<String, String> rules = new LinkedHashMap<>();
    private final Map<String, String> ruleNames = new HashMap<>();

    RoutingLoader(List<String> problems) {
        this.problems = problems;
    }

    Routing load(Map<String, String> env, String configFile, RetryPolicy retryDefaults) {
        if (!configFile.isBlank()) readYaml(Path.of(configFile.strip()));
        readEnvironment(env);
        List<Routing.Connector> built = new ArrayList<>();
        for (Map.Entry<String, Map<String, String>> entry : connectors.entrySet()) {
            // The canonical name (lower case, - for _) is the connector's identity: records, cursor files, logs.
            Routing.Connector connector = connector(entry.getKey(), entry.getValue(), env, retryDefaults);
            if (connector != null) built.add(connector);
        }
        List<RuleSet.Named> ruleList = new ArrayList<>();
        // Rules keep their written name (it is what the sender reads in ERR); connectors use the canonical one.
        rules.forEach((key, expression) -> ruleList.add(new RuleSet.Named(ruleNames.getOrDefault(key, key), expression)));
        if (built.isEmpty() && ruleList.isEmpty()) return Routing.none();
        return new Routing(List.copyOf(built), List.copyOf(ruleList));
    }

    /** Compiles the rules and filters; each expression that does not compile is a problem (the result then compiles nothing). */
    static RuleSet compile(Routing routing, RuleSet.Limits limits, List<String> problems) {
        if (routing.rules().isEmpty() && routing.connectors().isEmpty()) return RuleSet.empty();
        try {
            return RuleSet.compile(routing.rules(), routing.filters(), limits);
        } catch (RulesException e) {
            problems.addAll(e.problems());
            return RuleSet.empty();
        }
    }

    static String key(String name) {
        return name.toLowerCase(Locale.ROOT).replace('_', '-');
    }

    // --- environment ---------------------------------------------------------------------------

    private void readEnvironment(Map<String, String> env) {
        Map<String, String> sorted = new TreeMap<>(env);
        sorted.forEach((variable, value) -> {
            if (value.isBlank()) return; // blank means unset, as for every variable: it does not clear a YAML value
            if (variable.startsWith(RULE_PREFIX)) {
                String name = key(variable.substring(RULE_PREFIX.length()));
                if (!validName(name, variable)) return;
                ruleNames.putIfAbsent(name, name);
                rules.put(name, value);
            } else if (variable.startsWith(CONNECTOR_PREFIX)) {
                String rest = variable.substring(CONNECTOR_PREFIX.length());
                String setting = CONNECTOR_KEYS.stream().filter(k -> !k.equals("name"))
                        .filter(k -> rest.endsWith("_" + k.toUpperCase(Locale.ROOT)))
                        .max(java.util.Comparator.comparingInt(String::length)).orElse(null);
                if (setting == null) {
                    problems.add(variable + ": not a connector setting; write CONNECTOR_<NAME>_<KEY> with KEY one of "
                            + String.join(", ", CONNECTOR_KEYS.subList(1, CONNECTOR_KEYS.size()).stream()
                            .map(k -> k.toUpperCase(Locale.ROOT)).toList()));
                    return;
                }
                String name = key(rest.substring(0, rest.length() - setting.length() - 1));
                if (!validName(name, variable)) return;
                connectorNames.putIfAbsent(name, name);
                connectors.computeIfAbsent(name, k -> new LinkedHashMap<>()).put(setting, value);
            }
        });
    }

    private boolean validName(String name, String where) {
        if (NAME.matcher(name).matches()) return true;
        problems.add(where + ": \"" + name + "\" is not a valid name (letters, digits, - and _, at most 64, starting with a letter or digit)");
        return false;
    }

    // --- YAML ------------------------------------------------------------------------------------

    private void readYaml(Path file) {
        Node root;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(false);
            options.setMaxAliasesForCollections(10);
            root = new Yaml(new SafeConstructor(options)).compose(reader);
        } catch (IOException e) {
            problems.add("CONFIG_FILE=" + file + ": cannot be read (" + e.getMessage() + ")");
            return;
        } catch (YAMLException e) {
            problems.add("CONFIG_FILE=" + file + ": not valid YAML: " + e.getMessage().replace("\n", " "));
            return;
        }
        if (root == null) return; // an empty file: nothing configured
        String where = file.getFileName().toString();
        Map<String, Node> top = mapping(root, where, Set.of("connectors", "validation"), "the top level");
        if (top == null) return;
        if (top.containsKey("connectors")) {
            for (Node item : sequence(top.get("connectors"), where, "connectors")) {
                Map<String, Node> fields = mapping(item, where, Set.copyOf(CONNECTOR_KEYS), "a connector");
                if (fields == null) continue;
                String name = named(fields, item, where, "connector", connectorNames);
                if (name == null) continue;
                Map<String, String> settings = new LinkedHashMap<>();
                fields.forEach((k, v) -> {
                    if (k.equals("headers") && v instanceof MappingNode headers) {
                        settings.put(k, headerLines(headers, where, name));
                    } else if (!k.equals("name")) {
                        String text = scalar(v, where, "connector " + name + " " + k);
                        if (text != null) settings.put(k, text);
                    }
                });
                connectors.put(key(name), settings);
            }
        }
        if (top.containsKey("validation")) {
            Map<String, Node> validation = mapping(top.get("validation"), where, Set.of("rules"), "validation");
            if (validation != null && validation.containsKey("rules")) {
                for (Node item : sequence(validation.get("rules"), where, "validation.rules")) {
                    Map<String, Node> fields = mapping(item, where, Set.copyOf(RULE_KEYS), "a rule");
                    if (fields == null) continue;
                    String name = named(fields, item, where, "rule", ruleNames);
                    if (name == null) continue;
                    if (!fields.containsKey("expression")) {
                        problems.add(at(where, item) + ": rule " + name + " has no expression");
                        continue;
                    }
                    String expression = scalar(fields.get("expression"), where, "rule " + name + " expression");
                    if (expression != null) rules.put(key(name), expression);
                }
            }
        }
    }

    /** The entry's name: present, valid and not used before (names are compared as the environment sees them). */
    private String named(Map<String, Node> fields, Node item, String where, String kind, Map<String, String> seen) {
        Node nameNode = fields.get("name");
        String name = nameNode == null ? null : scalar(nameNode, where, kind + " name");
        if (name == null || name.isBlank()) {
            if (nameNode == null) problems.add(at(where, item) + ": a " + kind + " without a name");
            return null;
        }
        if (!validName(name, at(where, nameNode))) return null;
        String previous = seen.putIfAbsent(key(name), name);
        if (previous != null) {
            problems.add(at(where, nameNode) + ": " + kind + " name \"" + name + "\" is used twice"
                    + (previous.equals(name) ? "" : " (as \"" + previous + "\"; - and _ and case do not tell names apart)"));
            return null;
        }
        return name;
    }

    private Map<String, Node> mapping(Node node, String where, Set<String> known, String what) {
        if (!(node instanceof MappingNode map)) {
            problems.add(at(where, node) + ": " + what + " must be a mapping of keys to values");
            return null;
        }
        Map<String, Node> fields = new LinkedHashMap<>();
        for (NodeTuple tuple : map.getValue()) {
            String key = tuple.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
            if (key == null || !known.contains(key)) {
                problems.add(at(where, tuple.getKeyNode()) + ": unknown key " + (key == null ? "(not text)" : "\"" + key + "\"")
                        + " in " + what + "; known keys: " + String.join(", ", known.stream().sorted().toList()));
            } else if (fields.put(key, tuple.getValueNode()) != null) {
                problems.add(at(where, tuple.getKeyNode()) + ": key \"" + key + "\" appears twice in " + what);
            }
        }
        return fields;
    }

    private List<Node> sequence(Node node, String where, String what) {
        if (node instanceof SequenceNode seq) return seq.getValue();
        problems.add(at(where, node) + ": " + what + " must be a list (items starting with \"- \")");
        return List.of();
    }

    private String scalar(Node node, String where, String what) {
        if (node instanceof ScalarNode s) return s.getValue();
        problems.add(at(where, node) + ": " + what + " must be a single value");
        return null;
    }

    private static String at(String file, Node node) {
        return file + ":" + (node.getStartMark().getLine() + 1) + ":" + (node.getStartMark().getColumn() + 1);
    }

    // --- checking one connector --------------------------------------------------------------------

    /** A YAML mapping of header names to values, as "Name: value" lines (so a value may hold a ;). */
    private String headerLines(MappingNode headers, String where, String connector) {
        List<String> lines = new ArrayList<>();
        for (NodeTuple tuple : headers.getValue()) {
            String key = scalar(tuple.getKeyNode(), where, "connector " + connector + " header name");
            String value = scalar(tuple.getValueNode(), where, "connector " + connector + " header " + key);
            if (key != null && value != null) lines.add(key + ": " + value);
        }
        return String.join("\n", lines);
    }

    private Routing.Connector connector(String name, Map<String, String> settings, Map<String, String> env, RetryPolicy defaults) {
        String typeText = settings.getOrDefault("type", "").strip();
        Routing.Type type;
        try {
            type = Routing.Type.valueOf(typeText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            problems.add("connector " + name + ": type " + (typeText.isEmpty() ? "is missing" : "\"" + typeText + "\" is unknown")
                    + "; one of http, postgres, mllp, file");
            return null;
        }
        Set<String> allowed = new java.util.HashSet<>(switch (type) {
            case HTTP -> Set.of("url", "format", "headers", "ca_file", "connect_timeout", "request_timeout");
            case POSTGRES -> Set.of("url", "table", "batch_size", "connect_timeout");
            case MLLP -> Set.of("url", "connect_timeout", "ack_timeout", "ca_file", "cert_file", "key_file");
            case FILE -> Set.of("directory");
        });
        allowed.addAll(RETRY_KEYS);
        Map<String, String> kept = new LinkedHashMap<>();
        settings.forEach((k, v) -> {
            if (k.equals("type") || k.equals("filter")) return;
            if (!allowed.contains(k)) {
                problems.add("connector " + name + ": \"" + k + "\" does not apply to a " + typeText.toLowerCase(Locale.ROOT)
                        + " connector (it takes " + String.join(", ", allowed.stream().sorted().toList()) + ")");
            } else {
                kept.put(k, v.strip());
            }
        });
        ConnectorSettings typed = new ConnectorBuilder(name, kept, env, problems).build(type);
        RetryPolicy retry = retry(name, kept, defaults);
        if (typed == null || retry == null) return null;
        return new Routing.Connector(name, type, settings.getOrDefault("filter", "").strip(), Map.copyOf(kept), typed, retry);
    }

    private RetryPolicy retry(String name, Map<String, String> settings, RetryPolicy defaults) {
        try {
            Duration initial = settings.containsKey("retry_initial") ? Values.duration(settings.get("retry_initial")) : defaults.initial();
            Duration max = settings.containsKey("retry_max_delay") ? Values.duration(settings.get("retry_max_delay")) : defaults.maxDelay();
            long attempts = settings.containsKey("retry_max_attempts") ? Values.integer(settings.get("retry_max_attempts")) : defaults.maxAttempts();
            if (attempts < 1 || attempts > 1_000_000) throw new IllegalArgumentException("retry_max_attempts must be 1 to 1000000");
            return new RetryPolicy(initial, max, (int) attempts);
        } catch (IllegalArgumentException e) {
            problems.add("connector " + name + ": retry settings: " + e.getMessage());
            return null;
        }
    }
}
