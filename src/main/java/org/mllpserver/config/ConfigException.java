package org.mllpserver.config;

import java.util.List;

/** Every problem found in the configuration, so an operator fixes them all in one go. */
public final class ConfigException extends Exception {
    private final List<String> problems;

    public ConfigException(List<String> problems) {
        super(problems.size() + " configuration problem(s):\n  " + String.join("\n  ", problems.stream()
                .map(p -> p.replace("\n", "\n    ")) // an expression and its caret line up under the problem
                .toList()));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
