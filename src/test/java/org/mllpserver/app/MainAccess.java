package org.mllpserver.app;

import java.io.PrintStream;
import java.util.Map;

/** Lets tests in other packages run a command of {@link Main} with their own environment. */
public final class MainAccess {
    private MainAccess() {}

    public static int run(String[] args, Map<String, String> env, PrintStream out) {
        return Main.run(args, env, out, out);
    }
}
