package org.mllpserver.rules;

import java.util.List;

/** One or more expressions did not compile; {@link #problems()} has each with its place and a caret. */
public final class RulesException extends Exception {

    private final List<String> problems;

    public RulesException(List<String> problems) {
        super(problems.size() + " expression(s) did not compile:\n" + String.join("\n", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
