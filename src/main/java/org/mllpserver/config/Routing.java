package org.mllpserver.config;

import org.mllpserver.delivery.ConnectorSettings;
import org.mllpserver.delivery.RetryPolicy;
import org.mllpserver.rules.RuleSet;

import java.util.List;
import java.util.Map;

/**
 * The validation rules and connectors, from environment variables and the optional YAML file, as
 * written (compiling them is preparing the configuration: {@link ConfigLoader#prepare}).
 *
 * @param connectors in configuration order: the YAML file's order, then those only in the environment by name
 * @param rules      the validation rules, in the same order
 */
public record Routing(List<Connector> connectors, List<RuleSet.Named> rules) {

    /** The kinds of downstream a connector delivers to. */
    public enum Type { HTTP, POSTGRES, MLLP, FILE }

    /**
     * One connector: where records go when its filter matches (an empty filter matches every
     * message). {@code keys} are its settings as written (secrets included: do not log them);
     * {@code settings} the same, validated and typed.
     */
    public record Connector(String name, Type type, String filter, Map<String, String> keys, ConnectorSettings settings,
                            RetryPolicy retry) {
        @Override
        public String toString() {
            return "Connector[" + name + ", " + type + ", " + settings + ", " + retry + "]";
        }
    }

    public static Routing none() {
        return new Routing(List.of(), List.of());
    }

    /** The connectors' filters, named after them, for compiling with the rules. */
    public List<RuleSet.Named> filters() {
        return connectors.stream().map(c -> new RuleSet.Named(c.name(), c.filter())).toList();
    }
}
