package org.mllpserver.rules;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelFunctionDecl;
import dev.cel.common.CelOptions;
import dev.cel.common.CelOverloadDecl;
import dev.cel.common.CelValidationException;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructTypeReference;
import dev.cel.extensions.CelExtensions;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelFunctionBinding;
import dev.cel.runtime.CelRuntime;
import org.mllpserver.hl7.FieldPath;
import org.mllpserver.hl7.ParsedMessage;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The validation rules and connector filters, compiled once at start with cel-java (planner
 * runtime) and evaluated for each message before it is stored: rules decide AR, filters decide
 * which connectors the record is addressed to.
 *
 * <p><b>Variables.</b> Typed, so a misspelled variable or field is a compile error:
 * {@code msh} ({@link Msh}), {@code pid} ({@link Pid}), {@code pv1} ({@link Pv1}), {@code obx}
 * and {@code obx_list} ({@link Obx}), each value a string ("" when the message has none) and
 * {@code pid.id_list} a list of strings; and {@code field("ORC-2.1")} for any other value
 * ({@link FieldPath}; a constant path is checked at compile time). Optional syntax
 * ({@code ?.}, {@code orValue}) and the string extensions are on.
 *
 * <p><b>Cost.</b> Each expression's static cost ({@link CostEstimate}) must be at most
 * {@code maxCost}, or it does not compile; {@code matches} and {@code replace} need constant
 * patterns and strings. At run time each evaluation may take at most {@code stepLimit} steps
 * and {@code timeLimit} of time (both checked by an evaluation listener; comprehensions are also
 * capped at that many iterations; the time matters because a step of {@code map} or
 * {@code filter} copies its list): a rule over a hostile message stops there and the message gets
 * AE. Running out of memory or stack in one evaluation is an AE too.
 *
 * <p>Thread-safe: compiled programs are immutable; {@code field()} finds the message being
 * evaluated through a {@link ScopedValue} bound on the evaluating thread.
 */
public final class RuleSet {

    /** A named expression: a validation rule, or a connector's filter (named after the connector). */
    public record Named(String name, String expression) {}

    /**
     * @param maxCost   the highest static cost estimate an expression may have (MAX_RULE_COST)
     * @param stepLimit the most evaluation steps one expression may take on one message (MAX_RULE_STEPS)
     */
    public record Limits(long maxCost, long stepLimit, java.time.Duration timeLimit) {
        public Limits {
            if (maxCost < 1 || stepLimit < 1 || timeLimit.isNegative() || timeLimit.isZero()) {
                throw new IllegalArgumentException("limits must be positive");
            }
        }

        /** With the default time limit. */
        public Limits(long maxCost, long stepLimit) {
            this(maxCost, stepLimit, DEFAULT_TIME_LIMIT);
        }
    }

    /** MAX_RULE_TIME's default: far above a normal evaluation (microseconds), below a sender's patience. */
    public static final java.time.Duration DEFAULT_TIME_LIMIT = java.time.Duration.ofMillis(250);
    /** The clock is read once per this many steps: cheap, and a step is short unless a list is huge. */
    private static final int STEPS_PER_CLOCK_READ = 32;

    /** The outcome for one message. */
    public sealed interface Verdict permits Accepted, Rejected, Failed {}

    /** Every rule passed; {@code connectors} are the connectors whose filter matched, in configuration order. */
    public record Accepted(List<String> connectors) implements Verdict {}

    /** These rules returned false: AR. */
    public record Rejected(List<String> failedRules) implements Verdict {}

    /**
     * An expression could not be evaluated (an error, or over its step or time limit): AE.
     *
     * @param reason    what the sender is told; an evaluation error may quote a value from the message
     * @param logReason the same without any value, for the log (message content is patient data)
     */
    public record Failed(String expression, String reason, String logReason) implements Verdict {}

    private static final ScopedValue<ParsedMessage> CURRENT = ScopedValue.newInstance();
    private static final Accepted NOTHING_TO_DO = new Accepted(List.of());
    private static final String FIELD_FUNCTION = "field";
    private static final Map<String, FieldPath> PATHS = new ConcurrentHashMap<>();
    private static final int MAX_CACHED_PATHS = 10_000;

    private final List<Compiled> rules;
    private final List<Compiled> filters;
    private final Set<String> usedVariables;
    private final long stepLimit;
    private final long timeLimitNanos;

    private record Compiled(String name, CelRuntime.Program program, boolean matchesEverything) {}

    private RuleSet(List<Compiled> rules, List<Compiled> filters, Set<String> usedVariables, Limits limits) {
        this.rules = rules;
        this.filters = filters;
        this.usedVariables = usedVariables;
        this.stepLimit = limits.stepLimit();
        this.timeLimitNanos = limits.timeLimit().toNanos();
    }

    /** No rules, no filters: everything is accepted and addressed to no connector. */
    public static RuleSet empty() {
        return new RuleSet(List.of(), List.of(), Set.of(), new Limits(1, 1));
    }

    /**
     * Compiles every rule and filter (a filter with an empty expression matches every message).
     * Throws one {@link RulesException} listing every expression that does not compile.
     */
    public static RuleSet compile(List<Named> rules, List<Named> filters, Limits limits) throws RulesException {
        Cel cel = environment(limits.stepLimit());
        List<String> problems = new ArrayList<>();
        Set<String> used = new HashSet<>();
        List<Compiled> compiledRules = compileAll(cel, "rule", rules, limits, problems, used);
        List<Compiled> compiledFilters = compileAll(cel, "filter of connector", filters, limits, problems, used);
        if (!problems.isEmpty()) throw new RulesException(problems);
        return new RuleSet(compiledRules, compiledFilters, Set.copyOf(used), limits);
    }

    public int ruleCount() {
        return rules.size();
    }

    public int filterCount() {
        return filters.size();
    }

    /** Runs every rule; if all pass, every filter. Never throws. */
    public Verdict evaluate(ParsedMessage message) {
        if (rules.isEmpty() && filters.isEmpty()) return NOTHING_TO_DO;
        Map<String, Object> vars = Facts.of(message, usedVariables);
        List<String> failed = new ArrayList<>();
        for (Compiled rule : rules) {
            Object result;
            try {
                result = run(rule, message, vars);
            } catch (EvaluationFailure e) {
                return new Failed("rule " + rule.name(), e.getMessage(), e.logMessage);
            }
            if (!Boolean.TRUE.equals(result)) failed.add(rule.name());
        }
        if (!failed.isEmpty()) return new Rejected(List.copyOf(failed));
        List<String> connectors = new ArrayList<>();
        for (Compiled filter : filters) {
            try {
                if (filter.matchesEverything() || Boolean.TRUE.equals(run(filter, message, vars))) connectors.add(filter.name());
            } catch (EvaluationFailure e) {
                return new Failed("filter of connector " + filter.name(), e.getMessage(), e.logMessage);
            }
        }
        return new Accepted(List.copyOf(connectors));
    }

    /** One expression's result for one message, for {@code ./run.sh check --messages}. */
    public record Outcome(String kind, String name, String result) {}

    /**
     * Every rule and every filter on its own (no short cut after a failed rule): "pass", "fail"
     * or "error: ..." for rules, "addressed", "-" or "error: ..." for connectors.
     */
    public List<Outcome> explain(ParsedMessage message) {
        Map<String, Object> vars = Facts.of(message, usedVariables);
        List<Outcome> outcomes = new ArrayList<>();
        for (Compiled rule : rules) {
            String result;
            try {
                result = Boolean.TRUE.equals(run(rule, message, vars)) ? "pass" : "fail";
            } catch (EvaluationFailure e) {
                result = "error: " + e.getMessage();
            }
            outcomes.add(new Outcome("rule", rule.name(), result));
        }
        for (Compiled filter : filters) {
            String result;
            try {
                result = filter.matchesEverything() || Boolean.TRUE.equals(run(filter, message, vars)) ? "addressed" : "-";
            } catch (EvaluationFailure e) {
                result = "error: " + e.getMessage();
            }
            outcomes.add(new Outcome("connector", filter.name(), result));
        }
        return outcomes;
    }

    /**
     * Evaluates one expression with its step budget; every way it can go wrong (an evaluation
     * error, the budget, a bug in a function) comes out as an {@link EvaluationFailure}.
     */
    private Object run(Compiled compiled, ParsedMessage message, Map<String, Object> vars) throws EvaluationFailure {
        long[] steps = {0};
        long deadline = System.nanoTime() + timeLimitNanos;
        try {
            return ScopedValue.where(CURRENT, message).call(() -> compiled.program().trace(vars, (expr, value) -> {
                if (++steps[0] > stepLimit) throw new StepLimitExceeded(stepLimit);
                if (steps[0] % STEPS_PER_CLOCK_READ == 0 && System.nanoTime() - deadline > 0) throw new StepLimitExceeded(timeLimitNanos / 1_000_000, "ms");
            }));
        } catch (StepLimitExceeded e) {
            throw new EvaluationFailure(e.getMessage());
        } catch (OutOfMemoryError | StackOverflowError e) {
            // One evaluation asked for too much (a huge value built from the message); the heap is back once it is dropped.
            throw new EvaluationFailure("ran out of resources (" + e.getClass().getSimpleName() + ")");
        } catch (CelEvaluationException e) {
            StepLimitExceeded limit = causeOf(e, StepLimitExceeded.class);
            if (limit != null) throw new EvaluationFailure(limit.getMessage());
            if (e.getMessage() != null && e.getMessage().contains("Iteration budget exceeded")) {
                throw new EvaluationFailure(new StepLimitExceeded(stepLimit).getMessage());
            }
            throw new EvaluationFailure("evaluation error: " + describe(e), "evaluation error");
        } catch (RuntimeException e) {
            StepLimitExceeded limit = causeOf(e, StepLimitExceeded.class);
            if (limit != null) throw new EvaluationFailure(limit.getMessage());
            throw new EvaluationFailure("evaluation error: " + describe(e), "evaluation error");
        }
    }

    /** The exception's message and, when a function failed, why (its root cause). */
    private static String describe(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String message = String.valueOf(e.getMessage());
        return root == e || root.getMessage() == null || message.contains(root.getMessage()) ? message : message + ": " + root.getMessage();
    }

    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) if (type.isInstance(t)) return type.cast(t);
        return null;
    }

    /** Thrown by the evaluation listener when an evaluation takes more steps than allowed. */
    private static final class StepLimitExceeded extends RuntimeException {
        StepLimitExceeded(long limit) {
            super("exceeded its run-time budget of " + limit + " evaluation steps (MAX_RULE_STEPS)", null, false, false);
        }

        StepLimitExceeded(long millis, String unit) {
            super("exceeded its run-time budget of " + millis + " " + unit + " (MAX_RULE_TIME)", null, false, false);
        }
    }

    /** Why one expression could not give an answer for one message. */
    private static final class EvaluationFailure extends Exception {
        /** The message without anything from the message being evaluated. */
        final String logMessage;

        /** A failure whose text holds nothing from the message (a limit reached). */
        EvaluationFailure(String message) {
            this(message, message);
        }

        EvaluationFailure(String message, String logMessage) {
            super(message, null, false, false);
            this.logMessage = logMessage;
        }
    }

    // --- compiling ---------------------------------------------------------------------------

    private static List<Compiled> compileAll(Cel cel, String kind, List<Named> expressions, Limits limits, List<String> problems,
                                             Set<String> used) {
        List<Compiled> compiled = new ArrayList<>();
        for (Named named : expressions) {
            String source = kind + " " + named.name();
            if (named.expression().isBlank()) {
                if (kind.equals("rule")) problems.add(source + ": the expression is empty");
                else compiled.add(new Compiled(named.name(), null, true));
                continue;
            }
            try {
                CelAbstractSyntaxTree ast = cel.compile(named.expression(), source).getAst();
                List<String> own = new ArrayList<>();
                checkFieldPaths(ast, ast.getExpr(), source, named.expression(), own);
                checkConstantArguments(ast, ast.getExpr(), source, named.expression(), own);
                long cost = CostEstimate.of(ast.getExpr());
                if (cost > limits.maxCost()) {
                    own.add(source + ": estimated cost " + (cost == Long.MAX_VALUE ? "beyond measure" : String.valueOf(cost))
                            + " is over MAX_RULE_COST " + limits.maxCost() + " (each list is assumed to hold "
                            + CostEstimate.ASSUMED_LIST_SIZE + " entries, so a comprehension inside another multiplies: "
                            + "rewrite it as one pass, or raise MAX_RULE_COST)\n | " + named.expression().replace("\n", "\n | "));
                }
                problems.addAll(own);
                if (own.isEmpty()) {
                    collectVariables(ast.getExpr(), used);
                    compiled.add(new Compiled(named.name(), (CelRuntime.Program) cel.createProgram(ast), false));
                }
            } catch (CelValidationException e) {
                problems.add(e.getMessage().strip());
            } catch (CelEvaluationException e) {
                problems.add(source + ": cannot be prepared to run: " + e.getMessage());
            } catch (RuntimeException e) {
                problems.add(source + ": " + e.getMessage());
            }
        }
        return compiled;
    }

    /** A {@code field("...")} with a constant path: the path must be valid now, not at the first message. */
    private static void checkFieldPaths(CelAbstractSyntaxTree ast, CelExpr expr, String source, String text, List<String> problems) {
        walk(expr, e -> {
            if (e.getKind() != CelExpr.ExprKind.Kind.CALL || !e.call().function().equals(FIELD_FUNCTION)) return;
            if (e.call().args().size() != 1 || e.call().args().getFirst().getKind() != CelExpr.ExprKind.Kind.CONSTANT) return;
            String path = e.call().args().getFirst().constant().stringValue();
            try {
                FieldPath.parse(path);
            } catch (IllegalArgumentException bad) {
                int offset = ast.getSource().getPositionsMap().getOrDefault(e.call().args().getFirst().id(), 0);
                problems.add(source + ":" + location(text, offset) + ": " + bad.getMessage() + caret(text, offset));
            }
        });
    }

    /**
     * A regular expression or a replacement built from the message could cost any amount of time
     * or memory in one step, which no step count sees: {@code matches} needs a constant pattern,
     * {@code replace} constant strings.
     */
    private static void checkConstantArguments(CelAbstractSyntaxTree ast, CelExpr expr, String source, String text, List<String> problems) {
        walk(expr, e -> {
            if (e.getKind() != CelExpr.ExprKind.Kind.CALL) return;
            List<CelExpr> args = e.call().args();
            List<CelExpr> mustBeConstant = switch (e.call().function()) {
                case "matches" -> args.isEmpty() ? List.of() : List.of(args.getLast());
                case "replace" -> args.size() >= 2 ? args.subList(0, 2) : List.of();
                default -> List.of();
            };
            for (CelExpr arg : mustBeConstant) {
                if (arg.getKind() == CelExpr.ExprKind.Kind.CONSTANT) continue;
                int offset = ast.getSource().getPositionsMap().getOrDefault(arg.id(), 0);
                problems.add(source + ":" + location(text, offset) + ": " + e.call().function() + "() needs a constant "
                        + (e.call().function().equals("matches") ? "pattern" : "string") + " here: one built from the message"
                        + " could take any time or memory in a single step" + caret(text, offset));
            }
        });
    }

    private static String location(String text, int offset) {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset && i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        return line + ":" + (offset - lineStart + 1);
    }

    private static String caret(String text, int offset) {
        int lineStart = text.lastIndexOf('\n', Math.max(0, offset - 1)) + 1;
        int lineEnd = text.indexOf('\n', offset);
        String line = text.substring(lineStart, lineEnd < 0 ? text.length() : lineEnd);
        return "\n | " + line + "\n | " + ".".repeat(Math.max(0, offset - lineStart)) + "^";
    }

    private static void collectVariables(CelExpr expr, Set<String> used) {
        walk(expr, e -> {
            if (e.getKind() == CelExpr.ExprKind.Kind.IDENT && Facts.VARIABLES.contains(e.ident().name())) used.add(e.ident().name());
        });
    }

    private static void walk(CelExpr expr, java.util.function.Consumer<CelExpr> visitor) {
        visitor.accept(expr);
        switch (expr.getKind()) {
            case SELECT -> walk(expr.select().operand(), visitor);
            case CALL -> {
                expr.call().target().ifPresent(t -> walk(t, visitor));
                for (CelExpr arg : expr.call().args()) walk(arg, visitor);
            }
            case LIST -> expr.list().elements().forEach(e -> walk(e, visitor));
            case MAP -> expr.map().entries().forEach(e -> {
                walk(e.key(), visitor);
                walk(e.value(), visitor);
            });
            case STRUCT -> expr.struct().entries().forEach(e -> walk(e.value(), visitor));
            case COMPREHENSION -> {
                var c = expr.comprehension();
                for (CelExpr part : List.of(c.iterRange(), c.accuInit(), c.loopCondition(), c.loopStep(), c.result())) {
                    walk(part, visitor);
                }
            }
            default -> { }
        }
    }

    /** The CEL environment: typed variables, field(), optional syntax, string extensions, bool results. */
    private static Cel environment(long stepLimit) {
        CelOptions options = CelOptions.current()
                .enableHeterogeneousNumericComparisons(true)
                .enableOptionalSyntax(true)
                .comprehensionMaxIterations((int) Math.min(Integer.MAX_VALUE, stepLimit))
                .build();
        var nativeTypes = CelExtensions.nativeTypes(Msh.class, Pid.class, Pv1.class, Obx.class);
        return CelFactory.plannerCelBuilder()
                .setOptions(options)
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .addCompilerLibraries(nativeTypes, CelExtensions.optional(), CelExtensions.strings())
                .addRuntimeLibraries(nativeTypes, CelExtensions.optional(), CelExtensions.strings())
                .addVar(Facts.MSH, type(Msh.class))
                .addVar(Facts.PID, type(Pid.class))
                .addVar(Facts.PV1, type(Pv1.class))
                .addVar(Facts.OBX, type(Obx.class))
                .addVar(Facts.OBX_LIST, ListType.create(type(Obx.class)))
                .addFunctionDeclarations(CelFunctionDecl.newFunctionDeclaration(FIELD_FUNCTION,
                        CelOverloadDecl.newGlobalOverload("field_string", SimpleType.STRING, SimpleType.STRING)))
                .addFunctionBindings(CelFunctionBinding.from("field_string", String.class, RuleSet::field))
                .setResultType(SimpleType.BOOL)
                .build();
    }

    private static StructTypeReference type(Class<?> record) {
        return StructTypeReference.create(record.getName());
    }

    /** {@code field("ORC-2.1")}: the value at that path of the message being evaluated, "" when absent. */
    private static String field(String path) {
        FieldPath parsed = PATHS.get(path);
        if (parsed == null) {
            parsed = FieldPath.parse(path); // an invalid path built at run time: an evaluation error, so AE
            if (PATHS.size() < MAX_CACHED_PATHS) PATHS.put(path, parsed);
        }
        return CURRENT.get().get(parsed);
    }
}
